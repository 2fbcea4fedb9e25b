/* SPDX-License-Identifier: MIT */
/*
 * The schema model (qapi-code-gen.rst throughout; checklist 1.3-1.10):
 * one entity per definition plus the predefined ones (built-in types,
 * q_empty, QType, built-in arrays), implicit object types (q_obj_NAME-arg,
 * q_obj_NAME-base) and array types created on first use, in the order QEMU
 * creates them. Then the checks that need the whole schema: name
 * resolution, bases and cycles, member clashes, union discriminators and
 * branches, alternate ambiguity, command and event arguments and returns,
 * features, and connecting definitions to their doc comments. Finally each
 * entity is assigned to its module.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/schema-int.h"

/* ---- names and paths ---- */

/* c_name keeps ASCII letters, digits and '_', and makes anything else '_'. */
static char c_char(char c)
{
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '_')
               ? c
               : '_';
}

bool qs_c_name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (c_char(*a) != c_char(*b))
            return false;
    return !*a && !*b;
}

/* Whether qs_c_name(NAME) starts with PREFIX, without making it. */
bool qs_c_name_starts(const char *name, const char *prefix)
{
    for (; *prefix; name++, prefix++)
        if (!*name || c_char(*name) != *prefix)
            return false;
    return true;
}

char *qs_c_name(qs *s, const char *name)
{
    char *r = qs_tstrdup(s, name);
    for (char *p = r; *p; p++)
        *p = c_char(*p);
    return r;
}

/* Lexically normalised absolute path (like Python's os.path.abspath). */
char *qs_path_abs(qs *s, const char *path)
{
    char *src;
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            strcpy(cwd, "/");
        src = qs_tcat(s, cwd, "/", path, "");
    } else {
        src = qs_tstrdup(s, path);
    }
    /* split and normalise */
    size_t n = strlen(src);
    char *out = qs_talloc(s, n + 2);
    size_t o = 0;
    const char *p = src;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - p);
        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* skip */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else {
            out[o++] = '/';
            memcpy(out + o, p, len);
            o += len;
        }
        p = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = 0;
    return out;
}

char *qs_path_dirname(qs *s, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return (char *)"";
    size_t n = (size_t)(slash - path) + 1;
    /* strip trailing slashes unless it is all slashes */
    while (n > 1 && path[n - 1] == '/')
        n--;
    return qs_strndup(s, path, n);
}

char *qs_path_join(qs *s, const char *dir, const char *path)
{
    if (path[0] == '/' || !dir[0])
        return qs_strdup(s, path);
    size_t n = strlen(dir);
    return qs_cat(s, dir, dir[n - 1] == '/' ? "" : "/", path, "");
}

char *qs_path_rel(qs *s, const char *path, const char *start)
{
    const char *a = qs_path_abs(s, path);
    const char *b = qs_path_abs(s, start[0] ? start : ".");
    /* common prefix by components */
    size_t i = 0, last = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '/')
            last = i;
        i++;
    }
    if ((!a[i] && (b[i] == '/' || !b[i])) || (!b[i] && a[i] == '/'))
        last = i;
    if (!strcmp(b, "/"))
        last = 0;
    /* count remaining components of b after last */
    size_t ups = 0;
    const char *q = b + last;
    while (*q) {
        while (*q == '/')
            q++;
        if (!*q)
            break;
        ups++;
        while (*q && *q != '/')
            q++;
    }
    const char *rest = a + last;
    while (*rest == '/')
        rest++;
    char *r = qs_talloc(s, ups * 3 + strlen(rest) + 2);
    size_t o = 0;
    for (size_t k = 0; k < ups; k++) {
        if (o)
            r[o++] = '/';
        memcpy(r + o, "..", 2);
        o += 2;
    }
    if (*rest) {
        if (o)
            r[o++] = '/';
        strcpy(r + o, rest);
        o += strlen(rest);
    }
    if (!o)
        r[o++] = '.';
    r[o] = 0;
    return r;
}

/* ---- entity creation ---- */

static entity *new_entity(qs *s, qk_schema_kind kind, const char *name,
                          const char *meta, srcinfo *info)
{
    entity *e = qs_alloc(s, sizeof(*e));
    e->kind = (uint8_t)kind;
    e->features = &qs_no_features;
    e->name = name;
    e->meta = meta;
    e->info = info;
    return e;
}

static void def_entity(qs *s, entity *e)
{
    if (s->last)
        s->last->next = e;
    else
        s->first = e;
    s->last = e;
}

static const char *describe_type(qs *s, const entity *e)
{
    if (e->kind == QK_SCHEMA_ARRAY)
        return qs_tprintf(s, "%s type ['%s']", e->meta, e->elem_name);
    if (e->kind == QK_SCHEMA_COMMAND || e->kind == QK_SCHEMA_EVENT)
        return qs_tprintf(s, "%s '%s'", e->meta, e->name);
    return qs_tprintf(s, "%s type '%s'", e->meta, e->name);
}

static void def_definition(qs *s, entity *e)
{
    def_entity(s, e);
    entity *other = hmap_get(&s->entities, e->name);
    if (other) {
        /* QEMU finds clashes while building the model, after checking
         * every expression; here expressions are checked and defined in
         * one pass, so the first clash waits for the checks to finish
         * (qs_model_finish) and nothing more is defined. */
        if (!s->clash) {
            s->clash = e;
            s->clash_with = other;
        }
        return;
    }
    hmap_put(s, &s->entities, e->name, e);
}

static entity *lookup_type(qs *s, const char *name)
{
    entity *e = hmap_get(&s->entities, name);
    if (e && (e->kind == QK_SCHEMA_COMMAND || e->kind == QK_SCHEMA_EVENT ||
              e->kind == QK_SCHEMA_INCLUDE))
        return NULL;
    return e;
}

static const char *make_array_type(qs *s, const char *elem, srcinfo *info)
{
    const char *name = qs_tcat(s, elem, "List", "", "");
    entity *old = lookup_type(s, name);
    if (old)
        return old->name;
    name = qs_strdup(s, name);
    {
        entity *a = new_entity(s, QK_SCHEMA_ARRAY, name, "array", info);
        a->elem_name = elem;
        def_definition(s, a);
    }
    return name;
}

/* An 'if' condition copied out of the values arena, which is freed once
 * the expression is defined. Strings are interned: only the nodes are
 * copied. */
static qv *keep_cond(qs *s, const qv *c)
{
    if (!c)
        return NULL;
    qv *k = qs_alloc(s, sizeof(*k));
    *k = *c;
    if (c->kind == QV_OBJ) {
        k->obj = qs_alloc(s, c->n * sizeof(qv_pair));
        for (size_t i = 0; i < c->n; i++) {
            k->obj[i].key = c->obj[i].key;
            k->obj[i].val = keep_cond(s, c->obj[i].val);
        }
    } else if (c->kind == QV_LIST) {
        k->list = qs_alloc(s, c->n * sizeof(qv *));
        for (size_t i = 0; i < c->n; i++)
            k->list[i] = keep_cond(s, c->list[i]);
    }
    return k;
}

static vec make_features(qs *s, const qv *features, srcinfo *info)
{
    vec v = {0};
    if (!features)
        return v;
    vec_reserve(s, &v, features->n);
    for (size_t i = 0; i < features->n; i++) {
        const qv *f = features->list[i];
        const char *name = qv_long(f, "name")->s;
        feature *ft = qs_alloc(s, sizeof(*ft));
        ft->name = name;
        ft->info = info;
        ft->ifcond = keep_cond(s, qv_get(f, "if"));
        if (!hmap_get(&s->feature_dict, name)) {
            hmap_put(s, &s->feature_dict, name, ft);
            vec_push(s, &s->feature_names, ft);
        }
        vec_push(s, &v, ft);
    }
    return v;
}

const vec qs_no_features;

static const char *const role_names[] = {"member", "branch", "value"};

static member *new_member(qs *s, const char *name, srcinfo *info,
                          enum member_role role)
{
    member *m = qs_alloc(s, sizeof(*m));
    m->name = name;
    m->info = info;
    m->role = (uint8_t)role;
    m->features = &qs_no_features;
    return m;
}

static const vec *feature_list(qs *s, const qv *features, srcinfo *info)
{
    if (!features || !features->n)
        return &qs_no_features;
    vec *v = qs_alloc(s, sizeof(*v));
    *v = make_features(s, features, info);
    return v;
}

static member *make_member(qs *s, const char *name, const qv *val,
                           srcinfo *info)
{
    bool optional = false;
    if (name[0] == '*') {
        name++;
        optional = true;
    }
    const qv *typ = qv_long(val, "type");
    const char *tname = typ->kind == QV_LIST
                            ? make_array_type(s, typ->list[0]->s, info)
                            : typ->s;
    member *m = new_member(s, name, info, ROLE_MEMBER);
    m->type_name = tname;
    m->optional = optional;
    m->ifcond = keep_cond(s, qv_get(val, "if"));
    m->features = feature_list(s, qv_get(val, "features"), info);
    return m;
}

static vec make_members(qs *s, const qv *data, srcinfo *info)
{
    vec v = {0};
    vec_reserve(s, &v, data->n);
    for (size_t i = 0; i < data->n; i++)
        vec_push(s, &v, make_member(s, data->obj[i].key, data->obj[i].val,
                                    info));
    return v;
}

static void set_defined_in(vec *members, const char *name)
{
    for (size_t i = 0; i < members->n; i++)
        ((member *)members->v[i])->defined_in = name;
}

static entity *new_object(qs *s, const char *name, srcinfo *info,
                          qapi_doc *doc, qv *ifcond, const vec *features,
                          const char *base, vec members)
{
    entity *e = new_entity(s, QK_SCHEMA_OBJECT, name, "struct", info);
    e->doc = doc;
    e->ifcond = ifcond;
    e->features = features;
    e->base_name = base;
    e->members = members;
    set_defined_in(&e->members, name);
    return e;
}

static const char *make_implicit_object_type(qs *s, const char *name,
                                             srcinfo *info, qv *ifcond,
                                             const char *role, vec members)
{
    if (!members.n)
        return NULL;
    name = qs_cat(s, "q_obj_", name, "-", role);
    if (!hmap_get(&s->entities, name))
        def_definition(s, new_object(s, name, info, NULL, ifcond,
                                     &qs_no_features, NULL, members));
    return name;
}

static member *make_variant(qs *s, const char *name, const qv *val,
                            srcinfo *info)
{
    const qv *typ = qv_long(val, "type");
    member *m = new_member(s, name, info, ROLE_BRANCH);
    m->type_name = typ->kind == QV_LIST
                       ? make_array_type(s, typ->list[0]->s, info)
                       : typ->s;
    m->ifcond = keep_cond(s, qv_get(val, "if"));
    return m;
}

static void def_predefineds(qs *s)
{
    static const char *const builtins[][2] = {
        {"str", "string"},   {"number", "number"}, {"int", "int"},
        {"int8", "int"},     {"int16", "int"},     {"int32", "int"},
        {"int64", "int"},    {"uint8", "int"},     {"uint16", "int"},
        {"uint32", "int"},   {"uint64", "int"},    {"size", "int"},
        {"bool", "boolean"}, {"any", "value"},     {"null", "null"},
    };
    for (size_t i = 0; i < 15; i++) {
        entity *b = new_entity(s, QK_SCHEMA_BUILTIN, builtins[i][0],
                               "built-in", NULL);
        b->json_type = builtins[i][1];
        def_definition(s, b);
        make_array_type(s, builtins[i][0], NULL);
    }
    def_definition(s, new_object(s, "q_empty", NULL, NULL, NULL,
                                 &qs_no_features, NULL, (vec){0}));
    static const char *const qtypes[] = {"none",    "qnull", "qnum",
                                         "qstring", "qdict", "qlist",
                                         "qbool"};
    entity *q = new_entity(s, QK_SCHEMA_ENUM, "QType", "enum", NULL);
    for (size_t i = 0; i < 7; i++) {
        member *m = new_member(s, qtypes[i], NULL, ROLE_VALUE);
        m->defined_in = "QType";
        vec_push(s, &q->members, m);
    }
    def_definition(s, q);
    static const char *const special[] = {"deprecated", "unstable"};
    for (size_t i = 0; i < 2; i++) {
        feature *f = qs_alloc(s, sizeof(*f));
        f->name = special[i];
        hmap_put(s, &s->feature_dict, special[i], f);
        vec_push(s, &s->feature_names, f);
    }
}

static module *make_module(qs *s, const char *fname)
{
    const char *name = fname ? qs_path_rel(s, fname, s->schema_dir)
                             : "./builtin";
    module *m = hmap_get(&s->module_dict, name);
    if (!m) {
        m = qs_alloc(s, sizeof(*m));
        m->name = name = qs_strdup(s, name);
        hmap_put(s, &s->module_dict, name, m);
        vec_push(s, &s->modules, m);
    }
    return m;
}

static void def_expr(qs *s, qexpr *x)
{
    qv *expr = x->expr;
    srcinfo *info = x->info;
    qv *ifcond = keep_cond(s, qv_get(expr, "if"));
    qv *v;
    if ((v = qv_get(expr, "include"))) {
        entity *e = new_entity(s, QK_SCHEMA_INCLUDE, NULL, "include", info);
        e->incl = make_module(s, v->s);
        e->name = e->incl->name;
        def_entity(s, e);
        return;
    }
    const vec *features = feature_list(s, qv_get(expr, "features"), info);
    if ((v = qv_get(expr, "enum"))) {
        entity *e = new_entity(s, QK_SCHEMA_ENUM, v->s, "enum", info);
        e->doc = x->doc;
        e->ifcond = ifcond;
        e->features = features;
        qv *p = qv_get(expr, "prefix");
        e->prefix = p ? p->s : NULL;
        qv *data = qv_get(expr, "data");
        vec_reserve(s, &e->members, data->n);
        for (size_t i = 0; i < data->n; i++) {
            qv *mv = data->list[i];
            member *m = new_member(s, qv_long(mv, "name")->s, info,
                                   ROLE_VALUE);
            m->ifcond = keep_cond(s, qv_get(mv, "if"));
            m->features = feature_list(s, qv_get(mv, "features"), info);
            m->defined_in = e->name;
            vec_push(s, &e->members, m);
        }
        def_definition(s, e);
    } else if ((v = qv_get(expr, "struct"))) {
        qv *base = qv_get(expr, "base");
        vec members = make_members(s, qv_get(expr, "data"), info);
        def_definition(s, new_object(s, v->s, info, x->doc, ifcond, features,
                                     base ? base->s : NULL, members));
    } else if ((v = qv_get(expr, "union"))) {
        const char *name = v->s;
        qv *base = qv_get(expr, "base");
        const char *base_name;
        if (base->kind == QV_OBJ)
            base_name = make_implicit_object_type(
                s, name, info, ifcond, "base", make_members(s, base, info));
        else
            base_name = base->s;
        qv *data = qv_get(expr, "data");
        vec variants = {0};
        vec_reserve(s, &variants, data->n);
        for (size_t i = 0; i < data->n; i++) {
            member *br = make_variant(s, data->obj[i].key,
                                      data->obj[i].val, info);
            if (x->simple_union) {
                /* 2015: branch value wrapped as { 'data': T } */
                member *w = new_member(s, "data", info, ROLE_MEMBER);
                w->type_name = br->type_name;
                vec wm = {0};
                vec_push(s, &wm, w);
                br->type_name = make_implicit_object_type(
                    s, br->type_name, info, NULL, "wrapper", wm);
            }
            vec_push(s, &variants, br);
        }
        entity *e = new_object(s, name, info, x->doc, ifcond, features,
                               base_name, (vec){0});
        e->meta = "union";
        e->variants = variants;
        set_defined_in(&e->variants, name);
        e->tag_name = qv_get(expr, "discriminator")->s;
        def_definition(s, e);
    } else if ((v = qv_get(expr, "alternate"))) {
        qv *data = qv_get(expr, "data");
        entity *e = new_entity(s, QK_SCHEMA_ALTERNATE, v->s, "alternate",
                               info);
        vec_reserve(s, &e->variants, data->n);
        for (size_t i = 0; i < data->n; i++)
            vec_push(s, &e->variants, make_variant(s, data->obj[i].key,
                                                   data->obj[i].val, info));
        set_defined_in(&e->variants, e->name);
        e->doc = x->doc;
        e->ifcond = ifcond;
        e->features = features;
        e->tag_member = new_member(s, "type", info, ROLE_MEMBER);
        e->tag_member->type_name = "QType";
        e->tag_member->defined_in = e->name;
        def_definition(s, e);
    } else if ((v = qv_get(expr, "command")) || (v = qv_get(expr, "event"))) {
        bool cmd = qv_has(expr, "command");
        entity *e = new_entity(s, cmd ? QK_SCHEMA_COMMAND : QK_SCHEMA_EVENT,
                               v->s, cmd ? "command" : "event", info);
        e->doc = x->doc;
        e->ifcond = ifcond;
        e->features = features;
        qv *data = qv_get(expr, "data");
        if (data && data->kind == QV_OBJ)
            e->arg_name = make_implicit_object_type(
                s, e->name, info, ifcond, "arg", make_members(s, data, info));
        else if (data)
            e->arg_name = data->s;
        qv *rets = qv_get(expr, "returns");
        if (rets && rets->kind == QV_LIST)
            e->ret_name = make_array_type(s, rets->list[0]->s, info);
        else if (rets)
            e->ret_name = rets->s;
        e->gen = !qv_has(expr, "gen");
        e->success_response = !qv_has(expr, "success-response");
        e->boxed = qv_has(expr, "boxed");
        e->allow_oob = qv_has(expr, "allow-oob");
        e->allow_preconfig = qv_has(expr, "allow-preconfig");
        e->coroutine = qv_has(expr, "coroutine");
        def_definition(s, e);
    }
}

/* ---- checks ---- */

static const char *describe_member(qs *s, const member *m,
                                   const srcinfo *info)
{
    const char *role = role_names[m->role];
    const char *meta = "type";
    const char *defined_in = m->defined_in;
    if (!strncmp(defined_in, "q_obj_", 6)) {
        defined_in += 6;
        size_t n = strlen(defined_in);
        if (n >= 4 && !strcmp(defined_in + n - 4, "-arg")) {
            role = "parameter";
            meta = "command";
            defined_in = qs_tprintf(s, "%.*s", (int)(n - 4), defined_in);
        } else if (n >= 5 && !strcmp(defined_in + n - 5, "-base")) {
            role = qs_tprintf(s, "base %s", role);
            defined_in = qs_tprintf(s, "%.*s", (int)(n - 5), defined_in);
        }
    }
    if (!info->defn_name || strcmp(defined_in, info->defn_name))
        return qs_tprintf(s, "%s '%s' of %s '%s'", role, m->name, meta,
                          defined_in);
    return qs_tprintf(s, "%s '%s'", role, m->name);
}

static const char *describe_feature(qs *s, const feature *f,
                                    const srcinfo *info)
{
    (void)info;
    return qs_tprintf(s, "feature '%s'", f->name);
}

/*
 * "seen" maps c_name -> member, in insertion order (scratch storage). Big
 * sets get a hash index, so huge definitions stay linear. A union branch
 * looks through its parent set (the union's own members) instead of
 * copying it.
 */
#define SEEN_INDEX_AT 16

typedef struct seen {
    vec members;
    hmap idx;
    struct seen *parent;
} seen;

static member *seen_get(qs *s, seen *sn, const char *name)
{
    const char *cname = NULL;
    for (; sn; sn = sn->parent) {
        if (sn->idx.cap) {
            if (!cname)
                cname = qs_c_name(s, name);
            member *m = hmap_get(&sn->idx, cname);
            if (m)
                return m;
            continue;
        }
        for (size_t i = 0; i < sn->members.n; i++) {
            member *m = sn->members.v[i];
            if (qs_c_name_eq(m->name, name))
                return m;
        }
    }
    return NULL;
}

static void seen_add(qs *s, seen *sn, member *m)
{
    vec_tpush(s, &sn->members, m);
    if (sn->members.n == SEEN_INDEX_AT) {
        sn->idx.tmp = true;
        for (size_t i = 0; i < sn->members.n; i++) {
            member *o = sn->members.v[i];
            hmap_put(s, &sn->idx, qs_c_name(s, o->name), o);
        }
    } else if (sn->idx.cap) {
        hmap_put(s, &sn->idx, qs_c_name(s, m->name), m);
    }
}

static void member_check_clash(qs *s, member *m, srcinfo *info, seen *sn)
{
    member *other = seen_get(s, sn, m->name);
    if (other)
        qs_error(s, info, 0, "%s collides with %s",
                 describe_member(s, m, info), describe_member(s, other, info));
    seen_add(s, sn, m);
}

static void check_feature_clash(qs *s, const vec *features, srcinfo *info)
{
    hmap idx = {.tmp = true};
    for (size_t i = 0; i < features->n; i++) {
        feature *f = features->v[i];
        feature *o = NULL;
        if (features->n > SEEN_INDEX_AT) {
            const char *cname = qs_c_name(s, f->name);
            o = hmap_get(&idx, cname);
            if (!o)
                hmap_put(s, &idx, cname, f);
        } else {
            for (size_t j = 0; j < i && !o; j++)
                if (qs_c_name_eq(((feature *)features->v[j])->name, f->name))
                    o = features->v[j];
        }
        if (o)
            qs_error(s, info, 0, "%s collides with %s",
                     describe_feature(s, f, info),
                     describe_feature(s, o, info));
    }
}

static entity *resolve_type(qs *s, const char *name, srcinfo *info,
                            const char *what)
{
    entity *t = lookup_type(s, name);
    if (!t)
        qs_error(s, info, 0, "%s uses unknown type '%s'", what, name);
    return t;
}

static void member_check(qs *s, member *m)
{
    if (!m->resolved) {
        const char *name = m->type_name;
        entity *t = lookup_type(s, name);
        if (!t)
            resolve_type(s, name, m->info, describe_member(s, m, m->info));
        m->type = t;
        m->resolved = true;
    }
    check_feature_clash(s, m->features, m->info);
}

static bool is_special_feature(const char *n)
{
    return !strcmp(n, "deprecated") || !strcmp(n, "unstable");
}

static void check_entity(qs *s, entity *e);

static void definition_check(qs *s, entity *e)
{
    check_feature_clash(s, e->features, e->info);
    e->checked = true;
    if (e->kind != QK_SCHEMA_COMMAND && e->kind != QK_SCHEMA_EVENT) {
        for (size_t i = 0; i < e->features->n; i++) {
            feature *f = e->features->v[i];
            if (is_special_feature(f->name))
                qs_error(s, e->info, 0,
                         "feature '%s' is not supported for types", f->name);
        }
    }
}

static bool is_implicit(const entity *e)
{
    return e->kind == QK_SCHEMA_OBJECT && !strncmp(e->name, "q_", 2);
}

static void object_check_clash(qs *s, entity *o, srcinfo *info, seen *sn);

static void branches_check_clash(qs *s, entity *o, srcinfo *info, seen *sn)
{
    for (size_t i = 0; i < o->variants.n; i++) {
        member *v = o->variants.v[i];
        seen branch = {.parent = sn};
        object_check_clash(s, v->type, info, &branch);
    }
}

static void object_check_clash(qs *s, entity *o, srcinfo *info, seen *sn)
{
    for (size_t i = 0; i < o->all_members.n; i++)
        member_check_clash(s, o->all_members.v[i], info, sn);
    if (o->variants.n)
        branches_check_clash(s, o, info, sn);
}

static bool enum_has_value(qs *s, entity *en, const char *name)
{
    if (en->members.n > SEEN_INDEX_AT) {
        if (!en->value_idx.cap)
            for (size_t i = 0; i < en->members.n; i++) {
                member *m = en->members.v[i];
                hmap_put(s, &en->value_idx, m->name, m);
            }
        return hmap_get(&en->value_idx, name) != NULL;
    }
    for (size_t i = 0; i < en->members.n; i++)
        if (!strcmp(((member *)en->members.v[i])->name, name))
            return true;
    return false;
}

static void branches_check(qs *s, entity *o, seen *sn)
{
    const char *tag_name = o->tag_name;
    member *tag = seen_get(s, sn, tag_name);
    const char *base = "'base'";
    if (!tag || strcmp(tag_name, tag->name))
        qs_error(s, o->info, 0, "discriminator '%s' is not a member of %s",
                 tag_name, base);
    o->tag_member = tag;
    entity *base_type = lookup_type(s, tag->defined_in);
    if (!is_implicit(base_type))
        base = qs_tcat(s, "base type '", tag->defined_in, "'", "");
    if (tag->type->kind != QK_SCHEMA_ENUM)
        qs_error(s, o->info, 0,
                 "discriminator member '%s' of %s must be of enum type",
                 tag_name, base);
    if (tag->optional)
        qs_error(s, o->info, 0,
                 "discriminator member '%s' of %s must not be optional",
                 tag_name, base);
    if (tag->ifcond)
        qs_error(s, o->info, 0,
                 "discriminator member '%s' of %s must not be conditional",
                 tag_name, base);
    entity *en = tag->type;
    size_t nexplicit = o->variants.n;
    hmap covered_idx = {.tmp = true};
    if (nexplicit > SEEN_INDEX_AT)
        for (size_t j = 0; j < nexplicit; j++) {
            member *v = o->variants.v[j];
            hmap_put(s, &covered_idx, v->name, v);
        }
    for (size_t i = 0; i < en->members.n; i++) {
        member *m = en->members.v[i];
        bool covered = false;
        if (covered_idx.cap)
            covered = hmap_get(&covered_idx, m->name) != NULL;
        for (size_t j = 0; !covered_idx.cap && j < nexplicit && !covered; j++)
            if (!strcmp(((member *)o->variants.v[j])->name, m->name))
                covered = true;
        if (covered)
            continue;
        member *v = new_member(s, m->name, o->info, ROLE_BRANCH);
        v->type_name = "q_empty";
        v->ifcond = m->ifcond;
        v->defined_in = tag->defined_in;
        vec_push(s, &o->variants, v);
    }
    if (!o->variants.n)
        qs_error(s, o->info, 0, "union has no branches");
    for (size_t i = 0; i < o->variants.n; i++) {
        member *v = o->variants.v[i];
        member_check(s, v);
        if (sn->members.n) {
            if (!enum_has_value(s, en, v->name))
                qs_error(s, o->info, 0, "branch '%s' is not a value of %s",
                         v->name, describe_type(s, en));
            if (v->type->kind != QK_SCHEMA_OBJECT)
                qs_error(s, o->info, 0, "%s cannot use %s",
                         describe_member(s, v, o->info),
                         describe_type(s, v->type));
            check_entity(s, v->type);
        }
    }
}

static void object_check(qs *s, entity *o)
{
    if (o->members_done)
        return;
    if (o->checked)
        qs_error(s, o->info, 0, "object %s contains itself", o->name);
    definition_check(s, o);
    seen sn = {0};
    if (o->base_name) {
        o->base = resolve_type(s, o->base_name, o->info, "'base'");
        if (o->base->kind != QK_SCHEMA_OBJECT || o->base->variants.n ||
            o->base->tag_name)
            qs_error(s, o->info, 0, "'base' requires a struct type, %s isn't",
                     describe_type(s, o->base));
        object_check(s, o->base);
        object_check_clash(s, o->base, o->info, &sn);
    }
    for (size_t i = 0; i < o->members.n; i++) {
        member *m = o->members.v[i];
        member_check(s, m);
        member_check_clash(s, m, o->info, &sn);
    }
    vec_reserve(s, &o->all_members, sn.members.n);
    for (size_t i = 0; i < sn.members.n; i++)
        vec_push(s, &o->all_members, sn.members.v[i]);
    if (o->tag_name) {
        branches_check(s, o, &sn);
        branches_check_clash(s, o, o->info, &sn);
    }
    o->members_done = true;
}

static const char *alternate_qtype(const entity *t)
{
    switch (t->kind) {
    case QK_SCHEMA_BUILTIN:
        if (!strcmp(t->json_type, "null"))
            return "QTYPE_QNULL";
        if (!strcmp(t->json_type, "string"))
            return "QTYPE_QSTRING";
        if (!strcmp(t->json_type, "number") || !strcmp(t->json_type, "int"))
            return "QTYPE_QNUM";
        if (!strcmp(t->json_type, "boolean"))
            return "QTYPE_QBOOL";
        return NULL;
    case QK_SCHEMA_ENUM:
        return "QTYPE_QSTRING";
    case QK_SCHEMA_OBJECT:
        return "QTYPE_QDICT";
    case QK_SCHEMA_ARRAY:
        return "QTYPE_QLIST";
    default:
        return NULL;
    }
}

static void alternate_check(qs *s, entity *a)
{
    definition_check(s, a);
    member_check(s, a->tag_member);
    for (size_t i = 0; i < a->variants.n; i++)
        member_check(s, a->variants.v[i]);
    seen sn = {0};
    const char *qt_names[8];
    const char *qt_seen[8];
    size_t nseen = 0;
    for (size_t i = 0; i < a->variants.n; i++) {
        member *v = a->variants.v[i];
        member_check_clash(s, v, a->info, &sn);
        const char *qtype = alternate_qtype(v->type);
        if (!qtype)
            qs_error(s, a->info, 0, "%s cannot use %s",
                     describe_member(s, v, a->info),
                     describe_type(s, v->type));
        const char *conflicting[3] = {qtype, NULL, NULL};
        size_t nc = 1;
        if (!strcmp(qtype, "QTYPE_QSTRING")) {
            if (v->type->kind == QK_SCHEMA_ENUM) {
                bool b = false, n = false;
                for (size_t j = 0; j < v->type->members.n; j++) {
                    const char *mn = ((member *)v->type->members.v[j])->name;
                    if (!strcmp(mn, "on") || !strcmp(mn, "off"))
                        b = true;
                    if (strchr("-+0123456789.", mn[0]) && mn[0])
                        n = true;
                }
                if (b)
                    conflicting[nc++] = "QTYPE_QBOOL";
                if (n)
                    conflicting[nc++] = "QTYPE_QNUM";
            } else {
                conflicting[nc++] = "QTYPE_QNUM";
                conflicting[nc++] = "QTYPE_QBOOL";
            }
        }
        for (size_t c = 0; c < nc; c++) {
            for (size_t j = 0; j < nseen; j++)
                if (!strcmp(qt_names[j], conflicting[c]))
                    qs_error(s, a->info, 0,
                             "%s can't be distinguished from '%s'",
                             describe_member(s, v, a->info), qt_seen[j]);
        }
        for (size_t c = 0; c < nc && nseen < 8; c++) {
            qt_names[nseen] = conflicting[c];
            qt_seen[nseen++] = v->name;
        }
    }
}

static bool has_conditional_members(const entity *o)
{
    for (size_t i = 0; i < o->all_members.n; i++)
        if (((member *)o->all_members.v[i])->ifcond)
            return true;
    return false;
}

static void command_event_check(qs *s, entity *e)
{
    bool cmd = e->kind == QK_SCHEMA_COMMAND;
    const char *meta = cmd ? "command" : "event";
    definition_check(s, e);
    if (e->arg_name) {
        entity *t = resolve_type(s, e->arg_name, e->info,
                                 cmd ? "command's 'data'"
                                     : "event's 'data'");
        if (t->kind != QK_SCHEMA_OBJECT)
            qs_error(s, e->info, 0, "%s's 'data' cannot take %s", meta,
                     describe_type(s, t));
        e->arg = t;
        if (t->tag_name && !e->boxed)
            qs_error(s, e->info, 0,
                     "%s's 'data' can take %s only with 'boxed': true", meta,
                     describe_type(s, t));
        object_check(s, t);
        if (has_conditional_members(t) && !e->boxed)
            qs_error(s, e->info, 0,
                     "conditional %s arguments require 'boxed': true", meta);
    }
    if (cmd && e->ret_name) {
        e->ret = resolve_type(s, e->ret_name, e->info, "command's 'returns'");
        if (!hmap_get(&s->pragma.command_returns_exceptions,
                      e->name)) {
            entity *t = e->ret;
            if (t->kind == QK_SCHEMA_ARRAY)
                t = t->elem;
            if (t->kind != QK_SCHEMA_OBJECT)
                qs_error(s, e->info, 0, "command's 'returns' cannot take %s",
                         describe_type(s, e->ret));
        }
    }
}

static void check_entity(qs *s, entity *e)
{
    switch (e->kind) {
    case QK_SCHEMA_BUILTIN:
        e->checked = true;
        break;
    case QK_SCHEMA_ENUM: {
        definition_check(s, e);
        seen sn = {0};
        for (size_t i = 0; i < e->members.n; i++) {
            member *m = e->members.v[i];
            member_check_clash(s, m, e->info, &sn);
        }
        break;
    }
    case QK_SCHEMA_ARRAY:
        if (e->checked)
            break;
        definition_check(s, e);
        e->elem = resolve_type(s, e->elem_name, e->info,
                               e->info && e->info->defn_meta
                                   ? qs_defn_metas[e->info->defn_meta]
                                   : "?");
        break;
    case QK_SCHEMA_OBJECT:
        object_check(s, e);
        break;
    case QK_SCHEMA_ALTERNATE:
        alternate_check(s, e);
        break;
    case QK_SCHEMA_COMMAND:
    case QK_SCHEMA_EVENT:
        command_event_check(s, e);
        break;
    case QK_SCHEMA_INCLUDE:
        break;
    }
}

/* ---- doc connection ---- */

static void connect_features(qs *s, qapi_doc *doc, const vec *features)
{
    for (size_t i = 0; i < features->n; i++) {
        feature *f = features->v[i];
        doc_connect_feature(s, doc, f->name, f->info);
    }
}

static void connect_member(qs *s, qapi_doc *doc, member *m)
{
    doc_connect_member(s, doc, role_names[m->role], m->name, m->info);
}

static void connect_doc(qs *s, entity *e, qapi_doc *doc)
{
    if (!doc)
        doc = e->doc;
    switch (e->kind) {
    case QK_SCHEMA_ENUM:
        if (doc)
            connect_features(s, doc, e->features);
        for (size_t i = 0; doc && i < e->members.n; i++) {
            member *m = e->members.v[i];
            connect_member(s, doc, m);
            connect_features(s, doc, m->features);
        }
        break;
    case QK_SCHEMA_OBJECT:
        if (doc)
            connect_features(s, doc, e->features);
        if (e->base && is_implicit(e->base))
            connect_doc(s, e->base, doc);
        for (size_t i = 0; doc && i < e->members.n; i++) {
            member *m = e->members.v[i];
            connect_member(s, doc, m);
            connect_features(s, doc, m->features);
        }
        break;
    case QK_SCHEMA_ALTERNATE:
        if (doc)
            connect_features(s, doc, e->features);
        for (size_t i = 0; doc && i < e->variants.n; i++)
            connect_member(s, doc, e->variants.v[i]);
        break;
    case QK_SCHEMA_COMMAND:
    case QK_SCHEMA_EVENT:
        if (doc) {
            connect_features(s, doc, e->features);
            if (e->arg && is_implicit(e->arg))
                connect_doc(s, e->arg, doc);
        }
        break;
    case QK_SCHEMA_ARRAY:
    case QK_SCHEMA_BUILTIN:
        if (doc)
            connect_features(s, doc, e->features);
        break;
    default:
        break;
    }
}

/* ---- modules ---- */

static void set_module(qs *s, entity *e)
{
    const srcinfo *info = e->info;
    if (e->kind == QK_SCHEMA_ARRAY)
        info = e->elem->info;
    const char *fname = info ? info->fname : NULL;
    module *m;
    if (s->mod_cache_valid && fname == s->mod_cache_fname) {
        m = s->mod_cache;
    } else {
        const char *name = fname ? qs_path_rel(s, fname, s->schema_dir)
                                 : "./builtin";
        m = hmap_get(&s->module_dict, name);
        if (!m)
            m = make_module(s, fname);
        s->mod_cache_valid = true;
        s->mod_cache_fname = fname;
        s->mod_cache = m;
    }
    e->mod = m;
    vec_hpush(s, &m->entities, e);
}

void qs_model_begin(qs *s)
{
    s->schema_dir = qs_path_dirname(s, s->root_fname);
    make_module(s, NULL);
    make_module(s, s->root_fname);
    s->predefining = true;
    def_predefineds(s);
    s->predefining = false;
}

void qs_def_expr(qs *s, qexpr *x)
{
    def_expr(s, x);
}

/* Formatted only now: the locations' context lines ("In META 'NAME'")
 * are those after every check, as in QEMU. */
static void raise_clash(qs *s, entity *e, entity *other)
{
    if (other->info) {
        const char *where = qs_tprintf(s, "%s: previous definition",
                                      qs_info_str(s, other->info));
        qs_error(s, e->info, 0, "'%s' is already defined\n%s", e->name,
                 where);
    }
    qs_error(s, e->info, 0, "%s is already defined",
             describe_type(s, other));
}

void qs_model_finish(qs *s)
{
    if (s->clash)
        raise_clash(s, s->clash, s->clash_with);
    for (entity *e = s->first; e; e = e->next) {
        check_entity(s, e);
        if (s->compat != 2015)
            connect_doc(s, e, NULL);
        qs_scratch_reset(s);
    }
    /* array ifconds come from their element types */
    for (entity *e = s->first; e; e = e->next) {
        if (e->kind == QK_SCHEMA_ARRAY)
            e->ifcond = e->elem->ifcond;
        set_module(s, e);
        qs_scratch_reset(s);
    }
    for (size_t i = 0; i < s->docs.n; i++)
        doc_check(s, s->docs.v[i]);
    if (s->feature_names.n > 64) {
        feature *f = s->feature_names.v[64];
        qs_error(s, f->info, 0, "Maximum of 64 schema features is permitted");
    }
}
