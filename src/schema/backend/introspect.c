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
    qk_buf line;       /* the piece being built */
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

/* ---- the piece being built ---- */

static void add(intro *in, const char *s, size_t n)
{
    if (qk_buf_append(&in->line, s, n))
        in->g->err = QK_ERR_NOMEM;
}

static void lit(intro *in, const char *s)
{
    add(in, s, strlen(s));
}

/* A JSON string (names are plain ASCII identifiers). */
static void jstr(intro *in, const char *s)
{
    add(in, "\"", 1);
    lit(in, s);
    add(in, "\"", 1);
}

/* The name introspection gives type T: its own for built-ins, "[E]" for
 * arrays, else a masked number unless -u. The first use queues the type
 * for its own entry: the types follow in order of first use. */
static void type_name(intro *in, const entity *t)
{
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
    if (t->kind == QK_SCHEMA_ARRAY) {
        add(in, "[", 1);
        type_name(in, t->elem);
        add(in, "]", 1);
    } else if (t->kind == QK_SCHEMA_BUILTIN || in->g->unmask) {
        lit(in, t->name);
    } else {
        if (s->num < 0)
            s->num = in->nnames++;
        char num[24], *p = num + sizeof(num);
        unsigned long v = (unsigned long)s->num;
        do {
            *--p = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        add(in, p, (size_t)(num + sizeof(num) - p));
    }
}

static void jtype(intro *in, const entity *t)
{
    add(in, "\"", 1);
    type_name(in, t);
    add(in, "\"", 1);
}

/* The piece built so far as a C string literal line, escaped straight
 * into the file (this is most of the introspection file); the next piece
 * starts empty. */
static void flush(intro *in)
{
    qk_buf *b = &in->f->buf;
    const char *text = in->line.data ? in->line.data : "";
    size_t n = in->line.len;
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
    qk_buf_clear(&in->line);
}

static bool any_cond(const vec *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        if (((const feature *)fs->v[i])->ifcond)
            return true;
    return false;
}

/* Adds `, "features": [...]`; conditional features each become a piece
 * of their own, and the piece after them starts with "]". */
static void features(intro *in, const vec *fs)
{
    gen *g = in->g;
    if (!fs->n)
        return;
    lit(in, ", \"features\": [");
    if (!any_cond(fs)) {
        for (size_t i = 0; i < fs->n; i++) {
            if (i)
                lit(in, ", ");
            jstr(in, ((const feature *)fs->v[i])->name);
        }
    } else {
        flush(in);
        for (size_t i = 0; i < fs->n; i++) {
            const feature *f = fs->v[i];
            gen_if(g, in->f, f->ifcond);
            jstr(in, f->name);
            flush(in);
            gen_endif(g, in->f, f->ifcond);
        }
    }
    lit(in, "]");
}

/* A list of items: the piece so far ends with `, "KEY": [`, each item is
 * a piece with its condition, and the piece after them starts with "]". */
static void member_list(intro *in, const char *key, const entity *e,
                        int what)
{
    gen *g = in->g;
    lit(in, ", \"");
    lit(in, key);
    lit(in, "\": [");
    flush(in);
    const vec *ms = what == 2 ? &e->variants
                  : e->kind == QK_SCHEMA_OBJECT ? &e->all_members
                  : what == 3 ? &e->members
                  : e->kind == QK_SCHEMA_ALTERNATE ? &e->variants
                  : &e->members;
    for (size_t i = 0; i < ms->n; i++) {
        const member *m = ms->v[i];
        gen_if(g, in->f, m->ifcond);
        if (what == 3) { /* enum values */
            jstr(in, m->name);
        } else if (what == 2) {
            lit(in, "{\"case\": ");
            jstr(in, m->name);
            lit(in, ", \"type\": ");
            jtype(in, m->type);
            lit(in, "}");
        } else if (e->kind == QK_SCHEMA_ENUM) {
            lit(in, "{\"name\": ");
            jstr(in, m->name);
        } else if (e->kind == QK_SCHEMA_ALTERNATE) {
            lit(in, "{\"type\": ");
            jtype(in, m->type);
            lit(in, "}");
        } else {
            lit(in, "{\"name\": ");
            jstr(in, m->name);
            lit(in, ", \"type\": ");
            jtype(in, m->type);
            if (m->optional)
                lit(in, ", \"default\": null");
        }
        if (what == 1 && e->kind != QK_SCHEMA_ALTERNATE) {
            features(in, m->features);
            lit(in, "}");
        }
        flush(in);
        gen_endif(g, in->f, m->ifcond);
    }
    lit(in, "]");
}

static const char *meta_type(const entity *e)
{
    switch (e->kind) {
    case QK_SCHEMA_BUILTIN:
        return "builtin";
    case QK_SCHEMA_ENUM:
        return "enum";
    case QK_SCHEMA_ARRAY:
        return "array";
    case QK_SCHEMA_OBJECT:
        return "object";
    case QK_SCHEMA_ALTERNATE:
        return "alternate";
    case QK_SCHEMA_COMMAND:
        return "command";
    default:
        return "event";
    }
}

/* E's SchemaInfo entry; NAME: commands and events by their own name,
 * types by type_name. */
static void entity_info(intro *in, const entity *e)
{
    gen *g = in->g;
    bool named = e->kind == QK_SCHEMA_COMMAND || e->kind == QK_SCHEMA_EVENT;
    lit(in, "{\"name\": ");
    if (named)
        jstr(in, e->name);
    else
        jtype(in, e);
    lit(in, ", \"meta-type\": \"");
    lit(in, meta_type(e));
    lit(in, "\"");
    if (!g->unmask && !named && e->kind != QK_SCHEMA_BUILTIN &&
        e->kind != QK_SCHEMA_ARRAY && in->line.data) {
        /* the masked name is the line so far from its 11th byte */
        const char *num = in->line.data + 10;
        out(g, in->f, "    /* \"%.*s\" = %s */\n",
            (int)(strchr(num, '"') - num), num, e->name);
    }
    gen_if(g, in->f, e->ifcond);
    switch (e->kind) {
    case QK_SCHEMA_BUILTIN:
        lit(in, ", \"json-type\": ");
        jstr(in, !strcmp(e->name, "any") ? "value" : e->json_type);
        break;
    case QK_SCHEMA_ENUM:
        member_list(in, "members", e, 1);
        member_list(in, "values", e, 3);
        break;
    case QK_SCHEMA_ARRAY:
        lit(in, ", \"element-type\": ");
        jtype(in, e->elem);
        break;
    case QK_SCHEMA_OBJECT:
        member_list(in, "members", e, 1);
        if (e->variants.n) {
            lit(in, ", \"tag\": ");
            jstr(in, e->tag_member->name);
            member_list(in, "variants", e, 2);
        }
        break;
    case QK_SCHEMA_ALTERNATE:
        member_list(in, "members", e, 1);
        break;
    case QK_SCHEMA_COMMAND:
        lit(in, ", \"arg-type\": ");
        jtype(in, e->arg ? e->arg : in->t_empty);
        lit(in, ", \"ret-type\": ");
        jtype(in, e->ret ? e->ret : in->t_empty);
        if (e->allow_oob)
            lit(in, ", \"allow-oob\": true");
        break;
    case QK_SCHEMA_EVENT:
        lit(in, ", \"arg-type\": ");
        jtype(in, e->arg ? e->arg : in->t_empty);
        break;
    default:
        break;
    }
    features(in, e->features);
    lit(in, "}");
    flush(in);
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
    lit(&in, "[");
    flush(&in);
    for (size_t i = 0; i < s->modules.n; i++) {
        const module *m = s->modules.v[i];
        for (size_t j = 0; j < m->entities.n; j++) {
            const entity *e = m->entities.v[j];
            if (e->kind == QK_SCHEMA_COMMAND || e->kind == QK_SCHEMA_EVENT)
                entity_info(&in, e);
        }
    }
    for (size_t i = 0; i < in.nq; i++)
        entity_info(&in, in.queue[i]);
    lit(&in, "]");
    flush(&in);
    qk_buf_free(&in.line);
    out(g, c, "};\n\nconst size_t %sqmp_schema_npieces =\n"
              "    sizeof(%sqmp_schema_pieces) / sizeof(%sqmp_schema_pieces[0]);\n\n"
              "qk_json *%sqmp_schema_new(void)\n{\n"
              "    return qk_rt_json_from_pieces(%sqmp_schema_pieces,\n"
              "                                  %sqmp_schema_npieces);\n}\n",
        g->cprefix, g->cprefix, g->cprefix, g->cprefix, g->cprefix,
        g->cprefix);
    gf_close_c(g, c);
}
