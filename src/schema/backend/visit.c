/* SPDX-License-Identifier: MIT */
/*
 * The visit back end (checklist 4.3, messages 5.5): per module,
 * qapi-visit-MODULE.h/.c with, for every type, the strict input visitor
 * visit_type_T (qk_json -> C, QEMU's error texts and paths), the output
 * visitor visit_out_T (C -> qk_json), and for objects the _members and
 * _known helpers unions and command marshallers share; qapi_clone_T.
 */
#include <string.h>

#include "schema/backend/gen-int.h"

const char *alt_qtype(const entity *t);

static void decl(gen *g, gfile *h, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    gen_if(g, h, e->ifcond);
    switch (e->kind) {
    case QK_SCHEMA_ENUM:
        out(g, h,
            "bool visit_type_%s(const qk_vpath *p, const char *name,\n"
            "    const qk_json *in, %s *obj, qk_error **errp);\n"
            "qk_json *visit_out_%s(%s obj);\n"
            "bool visit_rd_%s(qk_rd *r, %s *obj);\n",
            cn, cn, cn, cn, cn, cn);
        break;
    case QK_SCHEMA_OBJECT:
        out(g, h,
            "bool visit_type_%s_members(const qk_vpath *p, const qk_json *in,\n"
            "    %s *obj, size_t *seen, qk_error **errp);\n"
            "int visit_known_%s(const void *obj, const char *key);\n"
            "bool visit_out_%s_members(qk_json *out, const %s *obj);\n"
            "int visit_rd_member_%s(qk_rd *r, %s *obj, const char *k, size_t kl,\n"
            "    uint64_t *seen, unsigned bit);\n"
            "bool visit_rd_check_%s(const %s *obj, uint64_t seen, unsigned bit);\n"
            "bool visit_rd_pre_%s(const qk_rd *r, %s *obj);\n"
            "bool visit_rd_%s_members(qk_rd *r, %s *obj);\n",
            cn, cn, cn, cn, cn, cn, cn, cn, cn, cn, cn, cn, cn);
        if (is_implicit(e))
            break;
        /* fall through */
    case QK_SCHEMA_ARRAY:
    case QK_SCHEMA_ALTERNATE:
        out(g, h,
            "bool visit_type_%s(const qk_vpath *p, const char *name,\n"
            "    const qk_json *in, %s **obj, qk_error **errp);\n"
            "qk_json *visit_out_%s(const %s *obj);\n"
            "%s *qapi_clone_%s(const %s *obj);\n"
            "bool visit_rd_%s(qk_rd *r, %s **obj);\n",
            cn, cn, cn, cn, cn, cn, cn, cn, cn);
        break;
    default:
        break;
    }
    gen_endif(g, h, e->ifcond);
    outs(g, h, "\n");
}

static void gen_enum(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    out(g, c,
        "bool visit_type_%s(const qk_vpath *p, const char *name,\n"
        "    const qk_json *in, %s *obj, qk_error **errp)\n{\n"
        "    int v;\n"
        "    if (!qk_v_enum(p, name, in, &%s_lookup, &v, errp))\n"
        "        return false;\n"
        "    *obj = (%s)v;\n    return true;\n}\n\n"
        "qk_json *visit_out_%s(%s obj)\n{\n"
        "    return qk_out_enum(&%s_lookup, obj);\n}\n\n"
        "bool visit_rd_%s(qk_rd *r, %s *obj)\n{\n"
        "    int v;\n"
        "    if (!qk_rd_enum(r, &%s_lookup, &v))\n        return false;\n"
        "    *obj = (%s)v;\n    return true;\n}\n\n",
        cn, cn, cn, cn, cn, cn, cn, cn, cn, cn, cn);
}

static void gen_clone(gen *g, gfile *c, const char *cn)
{
    out(g, c,
        "%s *qapi_clone_%s(const %s *obj)\n{\n"
        "    %s *r = NULL;\n    qk_error *err = NULL;\n    qk_json *j;\n"
        "    if (!obj)\n        return NULL;\n"
        "    j = visit_out_%s(obj);\n"
        "    if (j && !visit_type_%s(NULL, NULL, j, &r, &err))\n"
        "        r = NULL;\n"
        "    qk_error_free(err);\n    qk_json_unref(j);\n    return r;\n}\n\n",
        cn, cn, cn, cn, cn, cn);
}

static void gen_list(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    const char *en = type_cname(g, e->elem);
    out(g, c,
        "bool visit_type_%s(const qk_vpath *p, const char *name,\n"
        "    const qk_json *in, %s **obj, qk_error **errp)\n{\n"
        "    qk_vpath c = {p, name, 0, true};\n"
        "    %s *head = NULL, **tail = &head;\n"
        "    size_t i, n;\n"
        "    if (!qk_json_is_array(in)) {\n"
        "        qk_v_type_error(p, name, \"array\", errp);\n"
        "        return false;\n    }\n"
        "    n = qk_json_array_size(in);\n"
        "    for (i = 0; i < n; i++) {\n"
        "        %s *e = (%s *)qk_rt_zalloc(sizeof(*e));\n"
        "        if (!e) {\n            qk_v_nomem(errp);\n            goto fail;\n        }\n"
        "        *tail = e;\n        tail = &e->next;\n        c.index = i;\n"
        "        if (!visit_type_%s(&c, NULL, qk_json_array_get(in, i), &e->value, errp))\n"
        "            goto fail;\n    }\n"
        "    *obj = head;\n    return true;\n"
        "fail:\n    qapi_free_%s(head);\n    return false;\n}\n\n"
        "qk_json *visit_out_%s(const %s *obj)\n{\n"
        "    qk_json *a = qk_json_array_new();\n"
        "    for (; a && obj; obj = obj->next)\n"
        "        if (qk_json_array_append_take(a, visit_out_%s(obj->value))) {\n"
        "            qk_json_unref(a);\n            return NULL;\n        }\n"
        "    return a;\n}\n\n",
        cn, cn, cn, cn, cn, en, cn, cn, cn, en);
    out(g, c,
        "bool visit_rd_%s(qk_rd *r, %s **obj)\n{\n"
        "    %s *head = NULL, **tail = &head;\n    int k;\n"
        "    if (!qk_rd_arr_begin(r))\n        return false;\n"
        "    while ((k = qk_rd_elem(r)) == 1) {\n"
        "        %s *e = (%s *)qk_rt_zalloc(sizeof(*e));\n"
        "        if (!e)\n            break;\n"
        "        *tail = e;\n        tail = &e->next;\n"
        "        if (!visit_rd_%s(r, &e->value)) {\n            k = -1;\n            break;\n        }\n"
        "    }\n"
        "    if (k != 0) {\n        qapi_free_%s(head);\n        return false;\n    }\n"
        "    *obj = head;\n    return true;\n}\n\n",
        cn, cn, cn, cn, cn, en, cn);
    gen_clone(g, c, cn);
}

static bool empty_branch(const member *v)
{
    return !strcmp(v->type->name, "q_empty");
}

/* A switch on the tag of union E, a case for each non-empty branch:
 * "    case TAG:" then BODY, formatted with the branch's C type name, its
 * member's C name and N (a BODY may leave N unused). */
static void gen_branch_switch(gen *g, gfile *c, const entity *e,
                              const char *body, size_t n)
{
    const member *tag = e->tag_member;
    out(g, c, "    switch (obj->%s) {\n", c_name(g, tag->name, true));
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        if (empty_branch(v))
            continue;
        gen_if(g, c, v->ifcond);
        out(g, c, "    case %s:", c_enum_const(g, tag->type, v->name));
        out(g, c, body, c_name(g, v->type->name, false),
            c_name(g, v->name, true), n);
        gen_endif(g, c, v->ifcond);
    }
    outs(g, c, "    default:\n        break;\n    }\n");
}

/* Bits needed to track the members of e and its branches, nested. */
static size_t rd_bits(const entity *e)
{
    size_t n = e->all_members.n, best = 0;
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        if (v->type->kind == QK_SCHEMA_OBJECT) {
            size_t b = rd_bits(v->type);
            if (b > best)
                best = b;
        }
    }
    return n + best;
}

/* The fast text decoder of an object type (see qk_rd in rt.h). */
static void gen_object_rd(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    const member *tag = e->tag_member;
    bool ok = rd_bits(e) <= 64;
    size_t nall = e->all_members.n;
    out(g, c, "int visit_rd_member_%s(qk_rd *r, %s *obj, const char *k, size_t kl,\n"
              "    uint64_t *seen, unsigned bit)\n{\n"
              "    (void)r;\n    (void)obj;\n    (void)k;\n    (void)kl;\n"
              "    (void)seen;\n    (void)bit;\n", cn, cn);
    for (size_t i = 0; ok && i < nall; i++) {
        const member *m = e->all_members.v[i];
        gen_if(g, c, m->ifcond);
        out(g, c, "    if (kl == %zu && !memcmp(k, \"%s\", %zu)) {\n"
                  "        uint64_t b = 1ull << (bit + %zu);\n"
                  "        if (*seen & b)\n            return -1;\n"
                  "        *seen |= b;\n",
            strlen(m->name), m->name, strlen(m->name), i);
        if (has_special_feature(m->features))
            out(g, c, "        if (!qk_policy_input_ok(%s, \"parameter\", k, NULL))\n"
                      "            return -1;\n", special_mask(g, m->features));
        if (need_has(m))
            out(g, c, "        obj->has_%s = true;\n", c_name(g, m->name, true));
        out(g, c, "        return visit_rd_%s(r, &obj->%s) ? 1 : -1;\n    }\n",
            type_cname(g, m->type), c_name(g, m->name, true));
        gen_endif(g, c, m->ifcond);
    }
    if (ok && e->variants.n && tag) {
        gen_branch_switch(g, c, e,
            "\n        return visit_rd_member_%s(r, &obj->u.%s, k, kl, seen, bit + %zu);\n",
            nall);
    }
    outs(g, c, ok ? "    return 0;\n}\n\n" : "    return -1;\n}\n\n");

    out(g, c, "bool visit_rd_check_%s(const %s *obj, uint64_t seen, unsigned bit)\n{\n"
              "    uint64_t mask = 0;\n    (void)obj;\n", cn, cn);
    for (size_t i = 0; ok && i < nall; i++) {
        const member *m = e->all_members.v[i];
        if (m->optional)
            continue;
        gen_if(g, c, m->ifcond);
        out(g, c, "    mask |= 1ull << %zu;\n", i);
        gen_endif(g, c, m->ifcond);
    }
    outs(g, c, "    if (((seen >> bit) & mask) != mask)\n        return false;\n");
    if (ok && e->variants.n && tag) {
        gen_branch_switch(g, c, e,
            "\n        return visit_rd_check_%s(&obj->u.%s, seen, bit + %zu);\n",
            nall);
    }
    outs(g, c, ok ? "    return true;\n}\n\n" : "    return false;\n}\n\n");

    /* unions: the tag first (it may come after the branch's members),
     * recursively for branches that are unions themselves */
    out(g, c, "bool visit_rd_pre_%s(const qk_rd *r, %s *obj)\n{\n"
              "    (void)r;\n    (void)obj;\n", cn, cn);
    if (e->variants.n && tag) {
        out(g, c, "    {\n        qk_rd v;\n"
                  "        if (!qk_rd_find(r, \"%s\", &v) || !visit_rd_%s(&v, &obj->%s))\n"
                  "            return false;\n    }\n",
            tag->name, type_cname(g, tag->type), c_name(g, tag->name, true));
        gen_branch_switch(g, c, e,
            "\n        return visit_rd_pre_%s(r, &obj->u.%s);\n",
            0);
    }
    outs(g, c, "    return true;\n}\n\n");

    out(g, c, "bool visit_rd_%s_members(qk_rd *r, %s *obj)\n{\n"
              "    uint64_t seen = 0;\n    const char *k;\n    size_t kl;\n    int rc;\n",
        cn, cn);
    out(g, c, "    if (!visit_rd_pre_%s(r, obj))\n        return false;\n", cn);
    out(g, c, "    while ((rc = qk_rd_key(r, &k, &kl)) == 1)\n"
              "        if (visit_rd_member_%s(r, obj, k, kl, &seen, 0) != 1)\n"
              "            return false;\n"
              "    return rc == 0 && visit_rd_check_%s(obj, seen, 0);\n}\n\n",
        cn, cn);
}

static void gen_object(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    const member *tag = e->tag_member;
    /* input members */
    out(g, c,
        "bool visit_type_%s_members(const qk_vpath *p, const qk_json *in,\n"
        "    %s *obj, size_t *seen, qk_error **errp)\n{\n"
        "    const qk_json *v;\n"
        "    (void)p;\n    (void)in;\n    (void)obj;\n    (void)seen;\n"
        "    (void)errp;\n    (void)v;\n",
        cn, cn);
    for (size_t i = 0; i < e->all_members.n; i++) {
        const member *m = e->all_members.v[i];
        const char *mn = c_name(g, m->name, true);
        gen_if(g, c, m->ifcond);
        out(g, c, "    v = qk_json_object_get(in, \"%s\");\n    if (v) {\n"
                  "        ++*seen;\n", m->name);
        if (has_special_feature(m->features))
            out(g, c,
                "        if (!qk_policy_input_ok(%s, \"parameter\", \"%s\", errp))\n"
                "            return false;\n",
                special_mask(g, m->features), m->name);
        if (need_has(m))
            out(g, c, "        obj->has_%s = true;\n", c_name(g, m->name, true));
        out(g, c,
            "        if (!visit_type_%s(p, \"%s\", v, &obj->%s, errp))\n"
            "            return false;\n    }",
            type_cname(g, m->type), m->name, mn);
        if (!m->optional)
            out(g, c, " else {\n        qk_v_missing(p, \"%s\", errp);\n"
                      "        return false;\n    }", m->name);
        outs(g, c, "\n");
        gen_endif(g, c, m->ifcond);
    }
    if (e->variants.n && tag) {
        gen_branch_switch(g, c, e,
            "\n        return visit_type_%s_members(p, in, &obj->u.%s, seen, errp);\n",
            0);
    }
    outs(g, c, "    return true;\n}\n\n");

    /* known member names */
    out(g, c, "int visit_known_%s(const void *o, const char *key)\n{\n"
              "    const %s *obj = (const %s *)o;\n    (void)obj;\n    (void)key;\n",
        cn, cn, cn);
    for (size_t i = 0; i < e->all_members.n; i++) {
        const member *m = e->all_members.v[i];
        gen_if(g, c, m->ifcond);
        out(g, c, "    if (!strcmp(key, \"%s\"))\n        return %zu;\n",
            m->name, i);
        gen_endif(g, c, m->ifcond);
    }
    if (e->variants.n && tag) {
        gen_branch_switch(g, c, e,
            " {\n        int r = visit_known_%s(&obj->u.%s, key);\n"
            "        return r < 0 ? r : r + %zu;\n    }\n",
            (size_t)e->all_members.n);
    }
    outs(g, c, "    return -1;\n}\n\n");

    /* output members */
    out(g, c, "bool visit_out_%s_members(qk_json *out, const %s *obj)\n{\n"
              "    (void)out;\n    (void)obj;\n",
        cn, cn);
    for (size_t i = 0; i < e->all_members.n; i++) {
        const member *m = e->all_members.v[i];
        const char *mn = c_name(g, m->name, true);
        const char *cond = NULL;
        if (need_has(m))
            cond = gs(g, "obj->has_%s", c_name(g, m->name, true));
        else if (m->optional)
            cond = gs(g, "obj->%s", mn);
        if (has_special_feature(m->features)) {
            const char *h =
                gs(g, "!qk_policy_output_hidden(%s)", special_mask(g, m->features));
            cond = cond ? gs(g, "%s && %s", cond, h) : h;
        }
        gen_if(g, c, m->ifcond);
        if (cond)
            out(g, c, "    if (%s)\n    ", cond);
        out(g, c,
            "    if (qk_json_object_set_take(out, \"%s\", visit_out_%s(obj->%s)) < 0)\n"
            "        %sreturn false;\n",
            m->name, type_cname(g, m->type), mn, cond ? "    " : "");
        gen_endif(g, c, m->ifcond);
    }
    if (e->variants.n && tag) {
        gen_branch_switch(g, c, e,
            "\n        return visit_out_%s_members(out, &obj->u.%s);\n",
            0);
    }
    outs(g, c, "    return true;\n}\n\n");

    gen_object_rd(g, c, e);
    if (is_implicit(e))
        return;
    out(g, c,
        "bool visit_type_%s(const qk_vpath *p, const char *name,\n"
        "    const qk_json *in, %s **obj, qk_error **errp)\n{\n"
        "    qk_vpath c = {p, name, 0, false};\n"
        "    size_t seen = 0;\n    %s *o;\n"
        "    if (!qk_json_is_object(in)) {\n"
        "        qk_v_type_error(p, name, \"object\", errp);\n"
        "        return false;\n    }\n"
        "    o = (%s *)qk_rt_zalloc(sizeof(*o));\n"
        "    if (!o) {\n        qk_v_nomem(errp);\n        return false;\n    }\n"
        "    if (!visit_type_%s_members(&c, in, o, &seen, errp) ||\n"
        "        !qk_v_check_struct(&c, in, seen, visit_known_%s, o, errp)) {\n"
        "        qapi_free_%s(o);\n        return false;\n    }\n"
        "    *obj = o;\n    return true;\n}\n\n"
        "qk_json *visit_out_%s(const %s *obj)\n{\n"
        "    qk_json *o = qk_json_object_new();\n"
        "    if (o && obj && !visit_out_%s_members(o, obj)) {\n"
        "        qk_json_unref(o);\n        return NULL;\n    }\n"
        "    return o;\n}\n\n",
        cn, cn, cn, cn, cn, cn, cn, cn, cn, cn);
    out(g, c,
        "bool visit_rd_%s(qk_rd *r, %s **obj)\n{\n"
        "    %s *o;\n"
        "    if (!qk_rd_obj_begin(r))\n        return false;\n"
        "    o = (%s *)qk_rt_zalloc(sizeof(*o));\n"
        "    if (!o)\n        return false;\n"
        "    if (!visit_rd_%s_members(r, o)) {\n        qapi_free_%s(o);\n        return false;\n    }\n"
        "    *obj = o;\n    return true;\n}\n\n",
        cn, cn, cn, cn, cn, cn);
    gen_clone(g, c, cn);
}

/* The case labels for alternate branch Q (an alt_qtype() name): on the
 * qk_json type (text false) or on the first byte of the text (text true). */
static const char *alt_case(const char *q, bool text)
{
    if (!strcmp(q, "QTYPE_QDICT"))
        return text ? "    case '{':\n" : "    case QK_JSON_OBJECT:";
    if (!strcmp(q, "QTYPE_QLIST"))
        return text ? "    case '[':\n" : "    case QK_JSON_ARRAY:";
    if (!strcmp(q, "QTYPE_QSTRING"))
        return text ? "    case '\"':\n" : "    case QK_JSON_STRING:";
    if (!strcmp(q, "QTYPE_QBOOL"))
        return text ? "    case 't':\n    case 'f':\n" : "    case QK_JSON_BOOL:";
    if (!strcmp(q, "QTYPE_QNULL"))
        return text ? "    case 'n':\n" : "    case QK_JSON_NULL:";
    return text ? "    case '-':\n    case '0': case '1': case '2': case '3': case '4':\n"
                  "    case '5': case '6': case '7': case '8': case '9':\n"
                : "    case QK_JSON_INT:\n    case QK_JSON_UINT:\n"
                  "    case QK_JSON_DOUBLE:";
}

static void gen_alternate(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    out(g, c,
        "bool visit_type_%s(const qk_vpath *p, const char *name,\n"
        "    const qk_json *in, %s **obj, qk_error **errp)\n{\n"
        "    bool ok = false;\n"
        "    %s *o = (%s *)qk_rt_zalloc(sizeof(*o));\n"
        "    if (!o) {\n        qk_v_nomem(errp);\n        return false;\n    }\n"
        "    switch (qk_json_typeof(in)) {\n",
        cn, cn, cn, cn);
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        const entity *t = v->type;
        const char *vn = c_name(g, v->name, true);
        const char *q = alt_qtype(t);
        gen_if(g, c, v->ifcond);
        outs(g, c, alt_case(q, false));
        out(g, c, " {\n        o->type = %s;\n", q);
        if (t->kind == QK_SCHEMA_OBJECT)
            out(g, c,
                "        qk_vpath c = {p, name, 0, false};\n"
                "        size_t seen = 0;\n"
                "        ok = visit_type_%s_members(&c, in, &o->u.%s, &seen, errp) &&\n"
                "             qk_v_check_struct(&c, in, seen, visit_known_%s, &o->u.%s, errp);\n",
                c_name(g, t->name, false), vn, c_name(g, t->name, false), vn);
        else
            out(g, c, "        ok = visit_type_%s(p, name, in, &o->u.%s, errp);\n",
                type_cname(g, t), vn);
        outs(g, c, "        break;\n    }\n");
        gen_endif(g, c, v->ifcond);
    }
    out(g, c,
        "    default:\n        qk_v_alternate_error(name, \"%s\", errp);\n"
        "        break;\n    }\n"
        "    if (!ok) {\n        qapi_free_%s(o);\n        return false;\n    }\n"
        "    *obj = o;\n    return true;\n}\n\n",
        e->name, cn);
    out(g, c, "qk_json *visit_out_%s(const %s *obj)\n{\n"
              "    if (!obj)\n        return qk_json_null();\n"
              "    switch (obj->type) {\n",
        cn, cn);
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        const entity *t = v->type;
        const char *vn = c_name(g, v->name, true);
        gen_if(g, c, v->ifcond);
        out(g, c, "    case %s:", alt_qtype(t));
        if (t->kind == QK_SCHEMA_OBJECT)
            out(g, c,
                " {\n        qk_json *o = qk_json_object_new();\n"
                "        if (o && !visit_out_%s_members(o, &obj->u.%s)) {\n"
                "            qk_json_unref(o);\n            o = NULL;\n        }\n"
                "        return o;\n    }\n",
                c_name(g, t->name, false), vn);
        else
            out(g, c, "\n        return visit_out_%s(obj->u.%s);\n",
                type_cname(g, t), vn);
        gen_endif(g, c, v->ifcond);
    }
    outs(g, c, "    default:\n        return qk_json_null();\n    }\n}\n\n");
    out(g, c, "bool visit_rd_%s(qk_rd *r, %s **obj)\n{\n"
              "    bool ok = false;\n"
              "    %s *o = (%s *)qk_rt_zalloc(sizeof(*o));\n"
              "    if (!o)\n        return false;\n"
              "    switch (qk_rd_peek(r)) {\n", cn, cn, cn, cn);
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        const entity *t = v->type;
        const char *vn = c_name(g, v->name, true);
        const char *q = alt_qtype(t);
        gen_if(g, c, v->ifcond);
        outs(g, c, alt_case(q, true));
        out(g, c, "        o->type = %s;\n", q);
        if (t->kind == QK_SCHEMA_OBJECT)
            out(g, c, "        ok = qk_rd_obj_begin(r) && visit_rd_%s_members(r, &o->u.%s);\n",
                c_name(g, t->name, false), vn);
        else
            out(g, c, "        ok = visit_rd_%s(r, &o->u.%s);\n", type_cname(g, t), vn);
        outs(g, c, "        break;\n");
        gen_endif(g, c, v->ifcond);
    }
    out(g, c, "    default:\n        break;\n    }\n"
              "    if (!ok) {\n        qapi_free_%s(o);\n        return false;\n    }\n"
              "    *obj = o;\n    return true;\n}\n\n", cn);
    gen_clone(g, c, cn);
}

static void gen_module(gen *g, const module *m)
{
    const char *base = module_fname(g, m, "qapi-visit");
    gfile *h, *c;
    gf_open_pair(g, base, "Schema-defined QAPI visitors", &h, &c);
    out(g, h, "#include \"%s\"\n",
        rel_include(g, h->name, gs(g, "%s.h", module_fname(g, m, "qapi-types"))));
    if (module_is_builtin(m)) {
        gf_close_h(g, h);
        gf_close_c(g, c);
        return;
    }
    gen_module_includes(g, h, m, "qapi-visit");
    gf_begin_pair(g, h, c);
    for (size_t i = 0; i < m->entities.n; i++) {
        const entity *e = m->entities.v[i];
        if (e->kind == QK_SCHEMA_OBJECT && !strcmp(e->name, "q_empty"))
            continue;
        if (e->kind != QK_SCHEMA_ENUM && e->kind != QK_SCHEMA_OBJECT &&
            e->kind != QK_SCHEMA_ARRAY && e->kind != QK_SCHEMA_ALTERNATE)
            continue;
        decl(g, h, e);
        gen_if(g, c, e->ifcond);
        switch (e->kind) {
        case QK_SCHEMA_ENUM:
            gen_enum(g, c, e);
            break;
        case QK_SCHEMA_ARRAY:
            gen_list(g, c, e);
            break;
        case QK_SCHEMA_OBJECT:
            gen_object(g, c, e);
            break;
        default:
            gen_alternate(g, c, e);
            break;
        }
        gen_endif(g, c, e->ifcond);
    }
    outs(g, h, "#ifdef __cplusplus\n}\n#endif\n");
    gf_close_h(g, h);
    gf_close_c(g, c);
}

void gen_visit(gen *g)
{
    for (size_t i = 0; i < g->s->modules.n; i++) {
        const module *m = g->s->modules.v[i];
        if (module_is_builtin(m) && !g->builtins)
            continue;
        gen_module(g, m);
    }
}
