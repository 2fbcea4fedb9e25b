/* SPDX-License-Identifier: MIT */
/*
 * Expression checks (qapi-code-gen.rst "Schema overview" through "Events";
 * checklist 1.3-1.9): every top-level definition is checked for its key
 * set, the shape of its values, its names, conditions, features and flags,
 * in the order QEMU checks them, so the first error is the same one.
 * Shorthand forms are read where they are used, not rewritten: qv_long()
 * gives the long form's key ('T' as a member value reads as {'type': 'T'},
 * a string feature or enum value as {'name': ...}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/schema-int.h"

/*
 * What a message is about ("'data' member 'x'"): the text of UP, then A to
 * D. It is made into a string only when a message needs it: a valid
 * schema needs none, and making them all took a twentieth of the checks.
 */
typedef struct subj {
    const struct subj *up;
    const char *a, *b, *c, *d;
} subj;

#define SUBJ(str) (&(subj){NULL, (str), "", "", ""})

static const char *subj_str(qs *s, const subj *j)
{
    if (!j)
        return "";
    return qs_tcat(s, qs_tcat(s, subj_str(s, j->up), j->a, "", ""), j->b,
                   j->c, j->d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *pprint(qs *s, const char **names, size_t n)
{
    qsort(names, n, sizeof(*names), cmp_str);
    sbuf b = {0};
    for (size_t i = 0; i < n; i++)
        sb_printf(s, &b, "%s'%s'", i ? ", " : "", names[i]);
    return b.p ? b.p : "";
}

static bool in_list(const char *k, const char *const *l)
{
    for (; *l; l++)
        if (!strcmp(k, *l))
            return true;
    return false;
}

/* REQUIRED and OPTIONAL are NULL-terminated. */
static void check_keys(qs *s, const qv *value, srcinfo *info,
                       const subj *source, const char *const *required,
                       const char *const *optional)
{
    size_t nreq = 0, nopt = 0;
    while (required[nreq])
        nreq++;
    while (optional[nopt])
        nopt++;
    const char **missing = qs_talloc(s, (nreq + 1) * sizeof(char *));
    size_t nm = 0;
    for (size_t i = 0; i < nreq; i++)
        if (!qv_has(value, required[i]))
            missing[nm++] = required[i];
    if (nm)
        qs_error(s, info, 0, "%s misses key%s %s", subj_str(s, source),
                 nm > 1 ? "s" : "",
                 pprint(s, missing, nm));
    const char **unknown = qs_talloc(s, (value->n + 1) * sizeof(char *));
    size_t nu = 0;
    for (size_t i = 0; i < value->n; i++) {
        const char *k = value->obj[i].key;
        if (!in_list(k, required) && !in_list(k, optional))
            unknown[nu++] = k;
    }
    if (nu) {
        const char **allowed = qs_talloc(s, (nreq + nopt + 1) *
                                                sizeof(char *));
        memcpy(allowed, required, nreq * sizeof(char *));
        memcpy(allowed + nreq, optional, nopt * sizeof(char *));
        const char *u = pprint(s, unknown, nu);
        qs_error(s, info, 0, "%s has unknown key%s %s\nValid keys are %s.",
                 subj_str(s, source), nu > 1 ? "s" : "", u,
                 pprint(s, allowed, nreq + nopt));
    }
}

static void check_name_is_str(qs *s, const qv *name, srcinfo *info,
                              const subj *source)
{
    if (!name || name->kind != QV_STR)
        qs_error(s, info, 0, "%s requires a string name", subj_str(s, source));
}

static bool alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool alnum(char c)
{
    return alpha(c) || (c >= '0' && c <= '9');
}

/* [a-z][a-z0-9_-]* case-insensitively, to the end */
static bool match_stem(const char *p)
{
    if (!alpha(*p))
        return false;
    for (p++; *p; p++)
        if (!alnum(*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

/* Returns the stem, or NULL when NAME is not a valid name. */
static const char *match_valid_name(const char *name)
{
    const char *p = name;
    if (p[0] == '_' && p[1] == '_') {
        const char *q = p + 2;
        while (alnum(*q) || *q == '.' || *q == '-')
            q++;
        if (q > p + 2 && *q == '_') {
            const char *r = q + 1;
            if ((r[0] == 'x' || r[0] == 'X') && r[1] == '-' &&
                match_stem(r + 2))
                return r + 2;
            if (match_stem(r))
                return r;
        }
    }
    if ((p[0] == 'x' || p[0] == 'X') && p[1] == '-' && match_stem(p + 2))
        return p + 2;
    if (match_stem(p))
        return p;
    return NULL;
}

static const char *check_name_str(qs *s, const char *name, srcinfo *info,
                                  const subj *source)
{
    const char *stem = match_valid_name(name);
    if (!stem || qs_c_name_starts(name, "q_"))
        qs_error(s, info, 0, "%s has an invalid name", subj_str(s, source));
    return stem;
}

static void check_name_upper(qs *s, const char *name, srcinfo *info,
                             const subj *source)
{
    const char *stem = check_name_str(s, name, info, source);
    for (const char *p = stem; *p; p++)
        if ((*p >= 'a' && *p <= 'z') || *p == '-')
            qs_error(s, info, 0, "name of %s must not use lowercase or '-'",
                     subj_str(s, source));
}

static void check_name_lower(qs *s, const char *name, srcinfo *info,
                             const subj *source, bool permit_upper,
                             bool permit_underscore)
{
    const char *stem = check_name_str(s, name, info, source);
    for (const char *p = stem; *p; p++)
        if ((!permit_upper && *p >= 'A' && *p <= 'Z') ||
            (!permit_underscore && *p == '_'))
            qs_error(s, info, 0, "name of %s must not use uppercase or '_'",
                     subj_str(s, source));
}

static void check_name_camel(qs *s, const char *name, srcinfo *info,
                             const subj *source)
{
    const char *stem = check_name_str(s, name, info, source);
    /* [A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$ */
    bool ok = stem[0] >= 'A' && stem[0] <= 'Z';
    bool lower = false;
    for (const char *p = stem + 1; ok && *p; p++) {
        if (!alnum(*p))
            ok = false;
        if (*p >= 'a' && *p <= 'z')
            lower = true;
    }
    if (!ok || !lower)
        qs_error(s, info, 0, "name of %s must use CamelCase",
                 subj_str(s, source));
}

static void check_defn_name_str(qs *s, const char *name, srcinfo *info,
                                const char *meta)
{
    if (!strcmp(meta, "event")) {
        check_name_upper(s, name, info, SUBJ(meta));
    } else if (!strcmp(meta, "command")) {
        bool perm = hmap_get(&s->pragma.command_name_exceptions, name) ||
                    s->compat == 2015;
        check_name_lower(s, name, info, SUBJ(meta), false, perm);
    } else {
        check_name_camel(s, name, info, SUBJ(meta));
        size_t n = strlen(name);
        if (n >= 4 && !strcmp(name + n - 4, "List"))
            qs_error(s, info, 0, "%s name should not end in 'List'", meta);
    }
}

/* ---- if ---- */

static bool valid_if_ident(const char *p)
{
    if (!(*p >= 'A' && *p <= 'Z'))
        return false;
    for (p++; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

static void check_if_cond(qs *s, const qv *cond, srcinfo *info,
                          const subj *source)
{
    static const char *const none[] = {NULL};
    static const char *const ops[] = {"all", "any", "not", NULL};
    if (cond->kind == QV_STR) {
        if (!valid_if_ident(cond->s))
            qs_error(s, info, 0,
                     "'if' condition '%s' of %s is not a valid identifier",
                     cond->s, subj_str(s, source));
        return;
    }
    if (cond->kind != QV_OBJ)
        qs_error(s, info, 0,
                 "'if' condition of %s must be a string or an object",
                 subj_str(s, source));
    /* conditions that are objects are rare: this subject is made now */
    check_keys(s, cond, info,
               SUBJ(qs_tcat(s, "'if' condition of ", subj_str(s, source), "",
                            "")),
               none, ops);
    if (cond->n != 1)
        qs_error(s, info, 0, "'if' condition of %s has conflicting keys",
                 subj_str(s, source));
    const char *op = cond->obj[0].key;
    const qv *arg = cond->obj[0].val;
    if (!strcmp(op, "not")) {
        check_if_cond(s, arg, info, source);
        return;
    }
    if (arg->kind != QV_LIST)
        qs_error(s, info, 0, "'%s' condition of %s must be an array", op,
                 subj_str(s, source));
    if (!arg->n)
        qs_error(s, info, 0, "'if' condition [] of %s is useless",
                 subj_str(s, source));
    for (size_t i = 0; i < arg->n; i++)
        check_if_cond(s, arg->list[i], info, source);
}

static void check_if(qs *s, const qv *expr, srcinfo *info,
                     const subj *source)
{
    const qv *c = qv_get(expr, "if");
    if (c)
        check_if_cond(s, c, info, source);
}

/* ---- features ---- */

/*
 * A list item that is a name or {'name': ..., ...} (features, enum
 * values): its keys, then its name. Returns the name and sets *source to
 * "<what> '<name>'" for the messages that follow.
 */
static qv *check_named_item(qs *s, qv *item, srcinfo *info, const char *what,
                            const char *const *req, const char *const *opt,
                            subj *source)
{
    if (item->kind == QV_OBJ)
        check_keys(s, item, info, SUBJ(what), req, opt);
    qv *name = qv_long(item, "name");
    check_name_is_str(s, name, info, SUBJ(what));
    *source = (subj){NULL, what, " '", name->s, "'"};
    return name;
}

static void check_features(qs *s, qv *features, srcinfo *info)
{
    static const char *const req[] = {"name", NULL};
    static const char *const opt[] = {"if", NULL};
    if (!features)
        return;
    if (features->kind != QV_LIST)
        qs_error(s, info, 0, "'features' must be an array");
    for (size_t i = 0; i < features->n; i++) {
        qv *f = features->list[i]; /* short form: the name itself */
        subj source;
        qv *name = check_named_item(s, f, info, "'features' member", req, opt,
                                    &source);
        check_name_lower(s, name->s, info, &source, false, false);
        check_if(s, f, info, &source);
    }
}

/* ---- types ---- */

static void check_type_name(qs *s, const qv *v, srcinfo *info,
                            const subj *source)
{
    if (v && v->kind != QV_STR)
        qs_error(s, info, 0, "%s should be a type name", subj_str(s, source));
}

static void check_type_name_or_array(qs *s, const qv *v, srcinfo *info,
                                     const subj *source)
{
    if (!v || v->kind == QV_STR)
        return;
    if (v->kind != QV_LIST)
        qs_error(s, info, 0, "%s should be a type name or array",
                 subj_str(s, source));
    if (v->n != 1 || v->list[0]->kind != QV_STR)
        qs_error(s, info, 0, "%s: array type must contain single type name",
                 subj_str(s, source));
}

static void check_type_implicit(qs *s, const qv *value, srcinfo *info,
                                const subj *source, const char *parent_name)
{
    static const char *const req[] = {"type", NULL};
    static const char *const opt[] = {"if", "features", NULL};
    if (!value || value->kind == QV_STR)
        return;
    if (value->kind != QV_OBJ)
        qs_error(s, info, 0, "%s should be an object or type name",
                 subj_str(s, source));
    bool permissive = (parent_name &&
        hmap_get(&s->pragma.member_name_exceptions, parent_name)) ||
        s->compat == 2015;
    for (size_t i = 0; i < value->n; i++) {
        const char *key = value->obj[i].key;
        qv *arg = value->obj[i].val;
        const subj *key_source = &(subj){source, " member '", key, "'", ""};
        if (key[0] == '*')
            key++;
        check_name_lower(s, key, info, key_source, permissive, permissive);
        /* c_name "u" is "u" itself: only 'u' maps to 'u' */
        if (!strcmp(key, "u") || qs_c_name_starts(key, "has_"))
            qs_error(s, info, 0, "%s uses reserved name",
                     subj_str(s, key_source));
        if (arg->kind == QV_OBJ) { /* else short form: the type itself */
            check_keys(s, arg, info, key_source, req, opt);
            check_if(s, arg, info, key_source);
            check_features(s, qv_get(arg, "features"), info);
        }
        check_type_name_or_array(s, qv_long(arg, "type"), info, key_source);
    }
}

static void check_enum(qs *s, qv *expr, srcinfo *info)
{
    static const char *const req[] = {"name", NULL};
    static const char *const opt[] = {"if", "features", NULL};
    const char *name = qv_get(expr, "enum")->s;
    qv *members = qv_get(expr, "data");
    qv *prefix = qv_get(expr, "prefix");
    if (members->kind != QV_LIST)
        qs_error(s, info, 0, "'data' must be an array");
    if (prefix && prefix->kind != QV_STR)
        qs_error(s, info, 0, "'prefix' must be a string");
    bool permissive = hmap_get(&s->pragma.member_name_exceptions, name) ||
                      s->compat == 2015;
    for (size_t i = 0; i < members->n; i++) {
        qv *m = members->list[i]; /* short form: the name itself */
        subj source;
        qv *mn = check_named_item(s, m, info, "'data' member", req, opt,
                                  &source);
        const char *n = mn->s;
        if (n[0] >= '0' && n[0] <= '9')
            n = qs_tcat(s, "d", n, "", "");
        check_name_lower(s, n, info, &source, permissive, permissive);
        check_if(s, m, info, &source);
        check_features(s, qv_get(m, "features"), info);
    }
}

static void check_struct(qs *s, qv *expr, srcinfo *info)
{
    const char *name = qv_get(expr, "struct")->s;
    qv *members = qv_get(expr, "data");
    if (members->kind == QV_STR)
        qs_error(s, info, 0, "'data' should be an object or type name");
    check_type_implicit(s, members, info, SUBJ("'data'"), name);
    check_type_name(s, qv_get(expr, "base"), info, SUBJ("'base'"));
}

static void check_union(qs *s, qv *expr, srcinfo *info, bool simple)
{
    static const char *const req[] = {"type", NULL};
    static const char *const opt[] = {"if", NULL};
    const char *name = qv_get(expr, "union")->s;
    qv *base = qv_get(expr, "base");
    qv *disc = qv_get(expr, "discriminator");
    qv *members = qv_get(expr, "data");
    check_type_implicit(s, base, info, SUBJ("'base'"), name);
    check_name_is_str(s, disc, info, SUBJ("'discriminator'"));
    if (members->kind != QV_OBJ)
        qs_error(s, info, 0, "'data' must be an object");
    for (size_t i = 0; i < members->n; i++) {
        qv *value = members->obj[i].val;
        const subj *source =
            &(subj){NULL, "'data' member '", members->obj[i].key, "'", ""};
        if (value->kind == QV_OBJ) {
            check_keys(s, value, info, source, req, opt);
            check_if(s, value, info, source);
        }
        if (simple) /* 2015 simple union: a branch may be any type */
            check_type_name_or_array(s, qv_long(value, "type"), info, source);
        else
            check_type_name(s, qv_long(value, "type"), info, source);
    }
}

static void check_alternate(qs *s, qv *expr, srcinfo *info)
{
    static const char *const req[] = {"type", NULL};
    static const char *const opt[] = {"if", NULL};
    qv *members = qv_get(expr, "data");
    if (!qv_truthy(members))
        qs_error(s, info, 0, "'data' must not be empty");
    if (members->kind != QV_OBJ)
        qs_error(s, info, 0, "'data' must be an object");
    for (size_t i = 0; i < members->n; i++) {
        const char *key = members->obj[i].key;
        qv *value = members->obj[i].val;
        const subj *source = &(subj){NULL, "'data' member '", key, "'", ""};
        check_name_lower(s, key, info, source, false, false);
        if (value->kind == QV_OBJ) {
            check_keys(s, value, info, source, req, opt);
            check_if(s, value, info, source);
        }
        check_type_name_or_array(s, qv_long(value, "type"), info, source);
    }
}

static void check_command(qs *s, qv *expr, srcinfo *info)
{
    qv *args = qv_get(expr, "data");
    qv *rets = qv_get(expr, "returns");
    if (qv_truthy(qv_get(expr, "boxed"))) {
        if (!args)
            qs_error(s, info, 0, "'boxed': true requires 'data'");
        check_type_name(s, args, info, SUBJ("'data'"));
    } else {
        check_type_implicit(s, args, info, SUBJ("'data'"), NULL);
    }
    check_type_name_or_array(s, rets, info, SUBJ("'returns'"));
}

static void check_event(qs *s, qv *expr, srcinfo *info)
{
    qv *args = qv_get(expr, "data");
    if (qv_truthy(qv_get(expr, "boxed"))) {
        if (!args)
            qs_error(s, info, 0, "'boxed': true requires 'data'");
        check_type_name(s, args, info, SUBJ("'data'"));
    } else {
        check_type_implicit(s, args, info, SUBJ("'data'"), NULL);
    }
}

static void check_flags(qs *s, const qv *expr, srcinfo *info)
{
    static const char *const f_false[] = {"gen", "success-response"};
    static const char *const f_true[] = {"boxed", "allow-oob",
                                         "allow-preconfig", "coroutine"};
    for (size_t i = 0; i < 2; i++) {
        const qv *v = qv_get(expr, f_false[i]);
        if (v && !(v->kind == QV_BOOL && !v->b))
            qs_error(s, info, 0, "flag '%s' may only use false value",
                     f_false[i]);
    }
    for (size_t i = 0; i < 4; i++) {
        const qv *v = qv_get(expr, f_true[i]);
        if (v && !(v->kind == QV_BOOL && v->b))
            qs_error(s, info, 0, "flag '%s' may only use true value",
                     f_true[i]);
    }
    if (qv_has(expr, "allow-oob") && qv_has(expr, "coroutine"))
        qs_error(s, info, 0,
                 "flags 'allow-oob' and 'coroutine' are incompatible");
}

void qs_check_expr(qs *s, qexpr *x)
{
    static const char *const metas[] = {"enum", "struct", "union",
                                        "alternate", "command", "event"};
    qv *expr = x->expr;
    srcinfo *info = x->info;
    qapi_doc *doc = x->doc;
    if (qv_has(expr, "include"))
        return;
    const char *meta = NULL;
    int nmeta = 0;
    uint8_t meta_idx = 0;
    for (size_t k = 0; k < 6; k++)
        if (qv_has(expr, metas[k])) {
            meta = metas[k];
            meta_idx = (uint8_t)(k + 1); /* metas[] is qs_defn_metas + 1 */
            nmeta++;
        }
    if (nmeta != 1)
        qs_error(s, info, 0,
                 "expression must have exactly one key 'enum', 'struct', "
                 "'union', 'alternate', 'command', 'event'");
    check_name_is_str(s, qv_get(expr, meta), info,
                      &(subj){NULL, "'", meta, "'", ""});
    const char *name = qv_get(expr, meta)->s;
    info->defn_meta = meta_idx;
    info->defn_name = name;
    check_defn_name_str(s, name, info, meta);

    if (doc) {
        if (strcmp(doc->symbol, name))
            qs_error(s, info, 0, "documentation comment is for '%s'",
                     doc->symbol);
        doc_check_expr(s, doc, expr);
    } else if (s->pragma.doc_required) {
        qs_error(s, info, 0, "documentation comment required");
    }

    if (!strcmp(meta, "enum")) {
        static const char *const r[] = {"enum", "data", NULL};
        static const char *const o[] = {"if", "features", "prefix",
                                        NULL};
        check_keys(s, expr, info, SUBJ(meta), r, o);
        check_enum(s, expr, info);
    } else if (!strcmp(meta, "union")) {
        static const char *const r[] = {"union", "base", "discriminator",
                                        "data", NULL};
        static const char *const o[] = {"if", "features", NULL};
        check_keys(s, expr, info, SUBJ(meta), r, o);
        check_union(s, expr, info, x->simple_union);
    } else if (!strcmp(meta, "alternate")) {
        static const char *const r[] = {"alternate", "data", NULL};
        static const char *const o[] = {"if", "features", NULL};
        check_keys(s, expr, info, SUBJ(meta), r, o);
        check_alternate(s, expr, info);
    } else if (!strcmp(meta, "struct")) {
        static const char *const r[] = {"struct", "data", NULL};
        static const char *const o[] = {"base", "if", "features", NULL};
        check_keys(s, expr, info, SUBJ(meta), r, o);
        check_struct(s, expr, info);
    } else if (!strcmp(meta, "command")) {
        static const char *const r[] = {"command", NULL};
        static const char *const o[] = {
            "data", "returns", "boxed", "if", "features", "gen",
            "success-response", "allow-oob", "allow-preconfig",
            "coroutine", NULL};
        check_keys(s, expr, info, SUBJ(meta), r, o);
        check_command(s, expr, info);
    } else {
        static const char *const r[] = {"event", NULL};
        static const char *const o[] = {"data", "boxed", "if", "features",
                                        NULL};
        check_keys(s, expr, info, SUBJ(meta), r, o);
        check_event(s, expr, info);
    }
    check_if(s, expr, info, SUBJ(meta));
    check_features(s, qv_get(expr, "features"), info);
    check_flags(s, expr, info);
}
