/* SPDX-License-Identifier: MIT */
/*
 * The types back end (checklist 4.1): per module, qapi-types-MODULE.h with
 * enums (constants, _MAX, name table), structs, unions and alternates
 * (branch objects by value, emitted first), lists, upcasts and free
 * functions; qapi-types-MODULE.c with the enum tables and free bodies.
 */
#include <string.h>

#include "schema/backend/gen-int.h"

typedef struct seen_set {
    const entity **v;
    size_t n, cap;
} seen_set;

static bool seen_add(gen *g, seen_set *s, const entity *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == e)
            return false;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        const entity **v = galloc(g, cap * sizeof(*v));
        if (g->err)
            return false;
        if (s->n)
            memcpy(v, s->v, s->n * sizeof(*v));
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = e;
    return true;
}

static void gen_enum_decl(gen *g, gfile *h, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    gen_if(g, h, e->ifcond);
    out(g, h, "typedef enum %s {\n", cn);
    for (size_t i = 0; i < e->members.n; i++) {
        const member *m = e->members.v[i];
        gen_if(g, h, m->ifcond);
        out(g, h, "    %s,\n", c_enum_const(g, e, m->name));
        gen_endif(g, h, m->ifcond);
    }
    out(g, h, "    %s,\n} %s;\n\n", c_enum_const(g, e, "_MAX"), cn);
    out(g, h, "#define %s_str(val) qk_enum_str(&%s_lookup, (val))\n\n", cn,
        cn);
    out(g, h, "extern const QEnumLookup %s_lookup;\n", cn);
    gen_endif(g, h, e->ifcond);
    outs(g, h, "\n");
}

static void gen_object(gen *g, gfile *h, const entity *e, seen_set *seen);

static void gen_byvalue_deps(gen *g, gfile *h, const entity *e,
                             seen_set *seen)
{
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        const entity *t = v->type;
        if (t->kind == QK_SCHEMA_OBJECT && strcmp(t->name, "q_empty") &&
            t->mod == e->mod)
            gen_object(g, h, t, seen);
    }
}

static void gen_members(gen *g, gfile *h, const vec *ms)
{
    for (size_t i = 0; i < ms->n; i++) {
        const member *m = ms->v[i];
        gen_if(g, h, m->ifcond);
        const char *cn = c_name(g, m->name, true);
        if (need_has(m))
            out(g, h, "    bool has_%s;\n", c_name(g, m->name, true));
        if (cxx_keyword(cn))
            out(g, h, "#ifdef __cplusplus\n    %s%sq_%s;\n#else\n", c_type(g, m->type),
                is_ptr_type(m->type) ? "" : " ", cn);
        out(g, h, "    %s%s%s;\n", c_type(g, m->type),
            is_ptr_type(m->type) ? "" : " ", cn);
        if (cxx_keyword(cn))
            outs(g, h, "#endif\n");
        gen_endif(g, h, m->ifcond);
    }
}

static bool has_nonempty_branch(const entity *e)
{
    for (size_t i = 0; i < e->variants.n; i++)
        if (strcmp(((member *)e->variants.v[i])->type->name, "q_empty"))
            return true;
    return false;
}

static void gen_object(gen *g, gfile *h, const entity *e, seen_set *seen)
{
    if (!strcmp(e->name, "q_empty") || !seen_add(g, seen, e))
        return;
    gen_byvalue_deps(g, h, e, seen);
    const char *cn = c_name(g, e->name, false);
    gen_if(g, h, e->ifcond);
    out(g, h, "struct %s {\n", cn);
    gen_members(g, h, &e->all_members);
    if (e->variants.n && has_nonempty_branch(e)) {
        out(g, h, "    union { /* union tag is @%s */\n",
            c_name(g, e->tag_member->name, true));
        for (size_t i = 0; i < e->variants.n; i++) {
            const member *v = e->variants.v[i];
            if (!strcmp(v->type->name, "q_empty"))
                continue;
            gen_if(g, h, v->ifcond);
            out(g, h, "        %s %s;\n", c_name(g, v->type->name, false),
                c_name(g, v->name, true));
            gen_endif(g, h, v->ifcond);
        }
        outs(g, h, "    } u;\n");
    }
    if (!e->all_members.n && !has_nonempty_branch(e))
        outs(g, h, "    char qapi_dummy_for_empty_struct;\n");
    outs(g, h, "};\n");
    gen_endif(g, h, e->ifcond);
    outs(g, h, "\n");
}

static void gen_alternate(gen *g, gfile *h, const entity *e, seen_set *seen)
{
    if (!seen_add(g, seen, e))
        return;
    gen_byvalue_deps(g, h, e, seen);
    const char *cn = c_name(g, e->name, false);
    gen_if(g, h, e->ifcond);
    out(g, h, "struct %s {\n    QType type;\n    union { /* union tag is @type */\n",
        cn);
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        gen_if(g, h, v->ifcond);
        if (v->type->kind == QK_SCHEMA_OBJECT)
            out(g, h, "        %s %s;\n", c_name(g, v->type->name, false),
                c_name(g, v->name, true));
        else
            out(g, h, "        %s%s%s;\n", c_type(g, v->type),
                is_ptr_type(v->type) ? "" : " ", c_name(g, v->name, true));
        gen_endif(g, h, v->ifcond);
    }
    outs(g, h, "    } u;\n};\n");
    gen_endif(g, h, e->ifcond);
    outs(g, h, "\n");
}

static void gen_enum_table(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    const char *max = c_enum_const(g, e, "_MAX");
    bool feats = false;
    gen_if(g, c, e->ifcond);
    out(g, c, "static const char *const %s_array[%s + 1] = {\n", cn, max);
    for (size_t i = 0; i < e->members.n; i++) {
        const member *m = e->members.v[i];
        gen_if(g, c, m->ifcond);
        out(g, c, "    [%s] = \"%s\",\n", c_enum_const(g, e, m->name),
            m->name);
        gen_endif(g, c, m->ifcond);
        feats |= m->features->n > 0;
    }
    outs(g, c, "};\n\n");
    if (feats) {
        out(g, c, "static const uint64_t %s_features[%s + 1] = {\n", cn, max);
        for (size_t i = 0; i < e->members.n; i++) {
            const member *m = e->members.v[i];
            if (!m->features->n)
                continue;
            gen_if(g, c, m->ifcond);
            out(g, c, "    [%s] = %s,\n", c_enum_const(g, e, m->name),
                feature_mask(g, m->features));
            gen_endif(g, c, m->ifcond);
        }
        outs(g, c, "};\n\n");
    }
    out(g, c, "const QEnumLookup %s_lookup = {\n    %s_array,\n", cn, cn);
    if (feats)
        out(g, c, "    %s_features,\n", cn);
    else
        outs(g, c, "    NULL,\n");
    out(g, c, "    %s,\n};\n", max);
    gen_endif(g, c, e->ifcond);
    outs(g, c, "\n");
}

static void gen_free_members(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    gen_if(g, c, e->ifcond);
    out(g, c, "void qapi_free_%s_members(%s *obj)\n{\n    (void)obj;\n", cn, cn);
    for (size_t i = 0; i < e->all_members.n; i++) {
        const member *m = e->all_members.v[i];
        const char *st =
            free_stmt(g, m->type, gs(g, "obj->%s", c_name(g, m->name, true)));
        if (!st)
            continue;
        gen_if(g, c, m->ifcond);
        out(g, c, "    %s\n", st);
        gen_endif(g, c, m->ifcond);
    }
    if (e->variants.n && has_nonempty_branch(e)) {
        const member *tag = e->tag_member;
        out(g, c, "    switch (obj->%s) {\n", c_name(g, tag->name, true));
        for (size_t i = 0; i < e->variants.n; i++) {
            const member *v = e->variants.v[i];
            if (!strcmp(v->type->name, "q_empty"))
                continue;
            gen_if(g, c, v->ifcond);
            out(g, c, "    case %s:\n        qapi_free_%s_members(&obj->u.%s);\n        break;\n",
                c_enum_const(g, tag->type, v->name),
                c_name(g, v->type->name, false), c_name(g, v->name, true));
            gen_endif(g, c, v->ifcond);
        }
        outs(g, c, "    default:\n        break;\n    }\n");
    }
    outs(g, c, "}\n\n");
    if (!is_implicit(e))
        out(g, c,
            "void qapi_free_%s(%s *obj)\n{\n    if (!obj)\n        return;\n"
            "    qapi_free_%s_members(obj);\n    qk_rt_free(obj);\n}\n\n",
            cn, cn, cn);
    gen_endif(g, c, e->ifcond);
}

const char *alt_qtype(const entity *t);
const char *alt_qtype(const entity *t)
{
    switch (t->kind) {
    case QK_SCHEMA_OBJECT:
        return "QTYPE_QDICT";
    case QK_SCHEMA_ARRAY:
        return "QTYPE_QLIST";
    case QK_SCHEMA_ENUM:
        return "QTYPE_QSTRING";
    case QK_SCHEMA_BUILTIN:
        if (!strcmp(t->json_type, "string"))
            return "QTYPE_QSTRING";
        if (!strcmp(t->json_type, "boolean"))
            return "QTYPE_QBOOL";
        if (!strcmp(t->json_type, "null"))
            return "QTYPE_QNULL";
        if (!strcmp(t->json_type, "int") || !strcmp(t->json_type, "number"))
            return "QTYPE_QNUM";
        return "QTYPE_NONE";
    default:
        return "QTYPE_NONE";
    }
}

static void gen_free_alternate(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    gen_if(g, c, e->ifcond);
    out(g, c, "void qapi_free_%s(%s *obj)\n{\n    if (!obj)\n        return;\n"
              "    switch (obj->type) {\n", cn, cn);
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        const char *vn = c_name(g, v->name, true);
        const char *st;
        if (v->type->kind == QK_SCHEMA_OBJECT)
            st = gs(g, "qapi_free_%s_members(&obj->u.%s);",
                    c_name(g, v->type->name, false), vn);
        else
            st = free_stmt(g, v->type, gs(g, "obj->u.%s", vn));
        if (!st)
            continue;
        gen_if(g, c, v->ifcond);
        out(g, c, "    case %s:\n        %s\n        break;\n",
            alt_qtype(v->type), st);
        gen_endif(g, c, v->ifcond);
    }
    outs(g, c, "    default:\n        break;\n    }\n    qk_rt_free(obj);\n}\n\n");
    gen_endif(g, c, e->ifcond);
}

static void gen_free_list(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    const char *st = free_stmt(g, e->elem, "obj->value");
    gen_if(g, c, e->ifcond);
    out(g, c,
        "void qapi_free_%s(%s *obj)\n{\n    while (obj) {\n"
        "        %s *next = obj->next;\n"
        "%s%s%s"
        "        qk_rt_free(obj);\n        obj = next;\n    }\n}\n\n",
        cn, cn, cn, st ? "        " : "", st ? st : "", st ? "\n" : "");
    gen_endif(g, c, e->ifcond);
}

static void gen_module(gen *g, const module *m, seen_set *seen)
{
    const char *base = module_fname(g, m, "qapi-types");
    gfile *h, *c;
    gf_open_pair(g, base, "Schema-defined QAPI types", &h, &c);
    outs(g, h, "#include \"qmpkit/rt.h\"\n");
    if (module_is_builtin(m)) {
        outs(g, h, "/* The built-in types are part of qmpkit's runtime. */\n");
        gf_close_h(g, h);
        gf_close_c(g, c);
        return;
    }
    gen_module_includes(g, h, m, "qapi-types");
    outs(g, h, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    out(g, c, "#include \"%s\"\n#include \"%s\"\n\n",
        rel_include(g, c->name, h->name),
        rel_include(g, c->name, gs(g, "%sqapi-features.h", g->prefix)));
    /* preamble: forward declarations and enums */
    for (size_t i = 0; i < m->entities.n; i++) {
        const entity *e = m->entities.v[i];
        switch (e->kind) {
        case QK_SCHEMA_ENUM:
            gen_enum_decl(g, h, e);
            gen_enum_table(g, c, e);
            break;
        case QK_SCHEMA_OBJECT:
            if (!strcmp(e->name, "q_empty"))
                break;
            /* fall through */
        case QK_SCHEMA_ARRAY:
        case QK_SCHEMA_ALTERNATE:
            gen_if(g, h, e->ifcond);
            out(g, h, "typedef struct %s %s;\n", c_name(g, e->name, false),
                c_name(g, e->name, false));
            gen_endif(g, h, e->ifcond);
            break;
        default:
            break;
        }
    }
    outs(g, h, "\n");
    for (size_t i = 0; i < m->entities.n; i++) {
        const entity *e = m->entities.v[i];
        const char *cn = c_name(g, e->name, false);
        switch (e->kind) {
        case QK_SCHEMA_ARRAY:
            gen_if(g, h, e->ifcond);
            out(g, h, "struct %s {\n    %s *next;\n    %s%svalue;\n};\n\n", cn,
                cn, c_type(g, e->elem), is_ptr_type(e->elem) ? "" : " ");
            out(g, h, "void qapi_free_%s(%s *obj);\n", cn, cn);
            gen_endif(g, h, e->ifcond);
            outs(g, h, "\n");
            gen_free_list(g, c, e);
            break;
        case QK_SCHEMA_OBJECT:
            if (!strcmp(e->name, "q_empty"))
                break;
            gen_object(g, h, e, seen);
            gen_if(g, h, e->ifcond);
            out(g, h, "void qapi_free_%s_members(%s *obj);\n", cn, cn);
            if (!is_implicit(e))
                out(g, h, "void qapi_free_%s(%s *obj);\n", cn, cn);
            if (e->base && !is_implicit(e->base))
                out(g, h,
                    "\nstatic inline %s *qapi_%s_base(const %s *obj)\n{\n"
                    "    return (%s *)obj;\n}\n",
                    c_name(g, e->base->name, false), cn, cn,
                    c_name(g, e->base->name, false));
            gen_endif(g, h, e->ifcond);
            outs(g, h, "\n");
            gen_free_members(g, c, e);
            break;
        case QK_SCHEMA_ALTERNATE:
            gen_alternate(g, h, e, seen);
            gen_if(g, h, e->ifcond);
            out(g, h, "void qapi_free_%s(%s *obj);\n", cn, cn);
            gen_endif(g, h, e->ifcond);
            outs(g, h, "\n");
            gen_free_alternate(g, c, e);
            break;
        default:
            break;
        }
    }
    outs(g, h, "#ifdef __cplusplus\n}\n#endif\n");
    gf_close_h(g, h);
    gf_close_c(g, c);
}

void gen_types(gen *g)
{
    seen_set seen = {0};
    for (size_t i = 0; i < g->s->modules.n; i++) {
        const module *m = g->s->modules.v[i];
        if (module_is_builtin(m) && !g->builtins)
            continue;
        gen_module(g, m, &seen);
    }
}
