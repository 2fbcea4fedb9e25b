/* SPDX-License-Identifier: MIT */
/*
 * The introspect back end (checklist 4.6): PREFIXqapi-introspect.h/.c with
 * the value query-qmp-schema returns, as introspection.json's SchemaInfo
 * list. Commands and events come first in schema order; the types they
 * use follow in order of first use, integer types folded into int, type
 * names masked as "0", "1", ... unless -u. The value is emitted as JSON
 * fragments, conditional ones wrapped in #if, which the runtime joins
 * (qk_rt_json_from_pieces) and parses.
 */
#include <string.h>

#include "schema/backend/gen-int.h"

typedef struct islot {
    const entity *e;
    long num;          /* masked number, -1 if none assigned */
    bool used;
} islot;

typedef struct intro {
    gen *g;
    gfile *f;
    islot *slots;
    size_t cap;
    const entity **queue;
    size_t nq, qcap;
    long nnames;
    const entity *t_int, *t_intlist, *t_empty;
} intro;

static islot *slot(intro *in, const entity *e)
{
    size_t h = ((uintptr_t)e >> 4) * 2654435761u;
    for (size_t i = h & (in->cap - 1);; i = (i + 1) & (in->cap - 1)) {
        if (!in->slots[i].e) {
            in->slots[i].e = e;
            in->slots[i].num = -1;
            return &in->slots[i];
        }
        if (in->slots[i].e == e)
            return &in->slots[i];
    }
}

static const char *use_type(intro *in, const entity *t)
{
    gen *g = in->g;
    if (t->kind == QK_SCHEMA_BUILTIN && !strcmp(t->json_type, "int"))
        t = in->t_int;
    else if (t->kind == QK_SCHEMA_ARRAY && t->elem->kind == QK_SCHEMA_BUILTIN &&
             !strcmp(t->elem->json_type, "int"))
        t = in->t_intlist;
    islot *s = slot(in, t);
    if (!s->used) {
        s->used = true;
        if (in->nq < in->qcap)
            in->queue[in->nq++] = t;
    }
    if (t->kind == QK_SCHEMA_BUILTIN)
        return t->name;
    if (t->kind == QK_SCHEMA_ARRAY)
        return gs(g, "[%s]", use_type(in, t->elem));
    if (g->unmask)
        return t->name;
    if (s->num < 0)
        s->num = in->nnames++;
    return gs(g, "%ld", s->num);
}

/* A JSON string literal's text (names are plain ASCII identifiers). */
static const char *js(gen *g, const char *s)
{
    return gs(g, "\"%s\"", s);
}

/* TEXT as a C string literal line, escaped straight into the buffer
 * (this is most of the introspection file). */
static void piece(intro *in, const char *text)
{
    qk_buf *b = &in->f->buf;
    size_t n = strlen(text);
    if (qk_buf_reserve(b, 2 * n + 8)) {
        in->g->err = QK_ERR_NOMEM;
        return;
    }
    char *d = b->data + b->len;
    memcpy(d, "    \"", 5);
    d += 5;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '"' || text[i] == '\\')
            *d++ = '\\';
        *d++ = text[i];
    }
    memcpy(d, "\",\n", 3);
    b->len = (size_t)(d + 3 - b->data);
    b->data[b->len] = 0;
}

static bool any_cond(const vec *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        if (((const feature *)fs->v[i])->ifcond)
            return true;
    return false;
}

/* Appends `, "features": [...]` to *text, or flushes *text as a piece and
 * emits conditional features as pieces, leaving *text the continuation. */
static void features(intro *in, const char **text, const vec *fs)
{
    gen *g = in->g;
    if (!fs->n)
        return;
    if (!any_cond(fs)) {
        const char *r = "";
        for (size_t i = 0; i < fs->n; i++)
            r = gs(g, "%s%s%s", r, i ? ", " : "",
                   js(g, ((const feature *)fs->v[i])->name));
        *text = gs(g, "%s, \"features\": [%s]", *text, r);
        return;
    }
    piece(in, gs(g, "%s, \"features\": [", *text));
    for (size_t i = 0; i < fs->n; i++) {
        const feature *f = fs->v[i];
        gen_if(g, in->f, f->ifcond);
        piece(in, js(g, f->name));
        gen_endif(g, in->f, f->ifcond);
    }
    *text = "]";
}

/* A list of items: the open text is flushed, each item is a piece with
 * its condition, and the continuation starts with "]". */
static void member_list(intro *in, const char **text, const char *key,
                        const entity *e, int what)
{
    gen *g = in->g;
    piece(in, gs(g, "%s, \"%s\": [", *text, key));
    const vec *ms = what == 2 ? &e->variants
                  : e->kind == QK_SCHEMA_OBJECT ? &e->all_members
                  : what == 3 ? &e->members
                  : e->kind == QK_SCHEMA_ALTERNATE ? &e->variants
                  : &e->members;
    for (size_t i = 0; i < ms->n; i++) {
        const member *m = ms->v[i];
        const char *t;
        if (what == 3) /* enum values */
            t = js(g, m->name);
        else if (what == 2)
            t = gs(g, "{\"case\": %s, \"type\": %s}", js(g, m->name),
                   js(g, use_type(in, m->type)));
        else if (e->kind == QK_SCHEMA_ENUM)
            t = gs(g, "{\"name\": %s", js(g, m->name));
        else if (e->kind == QK_SCHEMA_ALTERNATE)
            t = gs(g, "{\"type\": %s}", js(g, use_type(in, m->type)));
        else
            t = gs(g, "{\"name\": %s, \"type\": %s%s", js(g, m->name),
                   js(g, use_type(in, m->type)),
                   m->optional ? ", \"default\": null" : "");
        gen_if(g, in->f, m->ifcond);
        if (what == 1 && e->kind != QK_SCHEMA_ALTERNATE) {
            features(in, &t, m->features);
            t = gs(g, "%s}", t);
        }
        piece(in, t);
        gen_endif(g, in->f, m->ifcond);
    }
    *text = "]";
}

static void entity_info(intro *in, const entity *e, const char *name)
{
    gen *g = in->g;
    const char *t = gs(g, "{\"name\": %s, \"meta-type\": \"%s\"",
                       js(g, name),
                       e->kind == QK_SCHEMA_BUILTIN     ? "builtin"
                       : e->kind == QK_SCHEMA_ENUM      ? "enum"
                       : e->kind == QK_SCHEMA_ARRAY     ? "array"
                       : e->kind == QK_SCHEMA_OBJECT    ? "object"
                       : e->kind == QK_SCHEMA_ALTERNATE ? "alternate"
                       : e->kind == QK_SCHEMA_COMMAND   ? "command"
                                                        : "event");
    if (!g->unmask && e->kind != QK_SCHEMA_BUILTIN &&
        e->kind != QK_SCHEMA_ARRAY && e->kind != QK_SCHEMA_COMMAND &&
        e->kind != QK_SCHEMA_EVENT)
        out(g, in->f, "    /* \"%s\" = %s */\n", name, e->name);
    gen_if(g, in->f, e->ifcond);
    switch (e->kind) {
    case QK_SCHEMA_BUILTIN: {
        const char *jt = e->json_type;
        if (!strcmp(e->name, "any"))
            jt = "value";
        t = gs(g, "%s, \"json-type\": %s", t, js(g, jt));
        break;
    }
    case QK_SCHEMA_ENUM:
        member_list(in, &t, "members", e, 1);
        member_list(in, &t, "values", e, 3);
        break;
    case QK_SCHEMA_ARRAY:
        t = gs(g, "%s, \"element-type\": %s", t,
               js(g, use_type(in, e->elem)));
        break;
    case QK_SCHEMA_OBJECT:
        member_list(in, &t, "members", e, 1);
        if (e->variants.n) {
            t = gs(g, "%s, \"tag\": %s", t, js(g, e->tag_member->name));
            member_list(in, &t, "variants", e, 2);
        }
        break;
    case QK_SCHEMA_ALTERNATE:
        member_list(in, &t, "members", e, 1);
        break;
    case QK_SCHEMA_COMMAND: {
        const char *a = use_type(in, e->arg ? e->arg : in->t_empty);
        const char *r = use_type(in, e->ret ? e->ret : in->t_empty);
        t = gs(g, "%s, \"arg-type\": %s, \"ret-type\": %s%s", t, js(g, a),
               js(g, r), e->allow_oob ? ", \"allow-oob\": true" : "");
        break;
    }
    case QK_SCHEMA_EVENT:
        t = gs(g, "%s, \"arg-type\": %s", t,
               js(g, use_type(in, e->arg ? e->arg : in->t_empty)));
        break;
    default:
        break;
    }
    features(in, &t, e->features);
    piece(in, gs(g, "%s}", t));
    gen_endif(g, in->f, e->ifcond);
}

void gen_introspect(gen *g)
{
    const qk_schema *s = g->s;
    const char *base = gs(g, "%sqapi-introspect", g->prefix);
    gfile *h, *c;
    gf_open_pair(g, base, "QAPI/QMP schema introspection", &h, &c);
    out(g, h,
        "#include \"qmpkit/rt.h\"\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
        "/* JSON fragments of the query-qmp-schema value (SchemaInfo list). */\n"
        "extern const char *const %sqmp_schema_pieces[];\n"
        "extern const size_t %sqmp_schema_npieces;\n\n"
        "/* The query-qmp-schema value: a new reference, or NULL when out of\n"
        " * memory. */\n"
        "qk_json *%sqmp_schema_new(void);\n\n"
        "#ifdef __cplusplus\n}\n#endif\n",
        g->cprefix, g->cprefix, g->cprefix);
    gf_close_h(g, h);

    intro in = {0};
    in.g = g;
    in.f = c;
    size_t n = 0;
    for (const entity *e = s->first; e; e = e->next)
        n++;
    in.cap = 16;
    while (in.cap < 2 * n + 16)
        in.cap *= 2;
    in.slots = gzalloc(g, in.cap * sizeof(islot));
    in.queue = galloc(g, (n + 16) * sizeof(entity *));
    in.qcap = n + 16;
    if (g->err)
        return;
    in.t_int = hmap_get(&s->entities, "int");
    in.t_intlist = hmap_get(&s->entities, "intList");
    in.t_empty = hmap_get(&s->entities, "q_empty");

    out(g, c, "#include \"%s.h\"\n\nconst char *const %sqmp_schema_pieces[] = {\n",
        base, g->cprefix);
    piece(&in, "[");
    for (size_t i = 0; i < s->modules.n; i++) {
        const module *m = s->modules.v[i];
        for (size_t j = 0; j < m->entities.n; j++) {
            const entity *e = m->entities.v[j];
            if (e->kind == QK_SCHEMA_COMMAND || e->kind == QK_SCHEMA_EVENT)
                entity_info(&in, e, e->name);
        }
    }
    for (size_t i = 0; i < in.nq; i++) {
        const entity *t = in.queue[i];
        const char *name = t->name;
        if (t->kind == QK_SCHEMA_ARRAY)
            name = gs(g, "[%s]", use_type(&in, t->elem));
        else if (t->kind != QK_SCHEMA_BUILTIN)
            name = use_type(&in, t);
        entity_info(&in, t, name);
    }
    piece(&in, "]");
    out(g, c, "};\n\nconst size_t %sqmp_schema_npieces =\n"
              "    sizeof(%sqmp_schema_pieces) / sizeof(%sqmp_schema_pieces[0]);\n\n"
              "qk_json *%sqmp_schema_new(void)\n{\n"
              "    return qk_rt_json_from_pieces(%sqmp_schema_pieces,\n"
              "                                  %sqmp_schema_npieces);\n}\n",
        g->cprefix, g->cprefix, g->cprefix, g->cprefix, g->cprefix,
        g->cprefix);
    gf_close_c(g, c);
}
