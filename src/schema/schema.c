/* SPDX-License-Identifier: MIT */
/*
 * Public entry points of the schema front end (include/qmpkit/schema.h):
 * the context, the compile pipeline in QEMU's order (parse with includes
 * and doc comments, expression checks, model build and checks), and the
 * walking interface. Each entry point owns the unwind target that errors
 * and out-of-memory jump to.
 */
#include <string.h>
#include <unistd.h>

#include "common/alloc-int.h"
#include "schema/schema-int.h"

qk_schema *qk_schema_new(void)
{
    qk_schema *s = qk_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->max_depth = 1000;
    s->max_include_depth = 200;
    s->pending_fd = -1;
    s->strings.heap = s->entities.heap = s->included.heap = true;
    s->feature_dict.heap = s->module_dict.heap = true;
    s->qv_true.kind = s->qv_false.kind = QV_BOOL;
    s->qv_true.b = true;
    return s;
}

void qk_schema_free(qk_schema *s)
{
    if (!s)
        return;
    qs_arena_free(s);
    qk_free(s);
}

void qk_schema_set_diag(qk_schema *s, qk_schema_diag_fn fn, void *opaque)
{
    s->diag = fn;
    s->diag_opaque = opaque;
}

void qk_schema_set_reader(qk_schema *s, qk_schema_read_fn fn, void *opaque)
{
    s->reader = fn;
    s->reader_opaque = opaque;
}

int qk_schema_set_compat(qk_schema *s, int level)
{
    if (level != 0 && level != 2015)
        return QK_ERR_INVAL;
    s->compat = level;
    return 0;
}

void qk_schema_set_keep_doc_text(qk_schema *s, bool keep)
{
    s->drop_doc_text = !keep;
}

void qk_schema_set_limits(qk_schema *s, unsigned max_depth,
                          unsigned max_include_depth)
{
    if (max_depth)
        s->max_depth = max_depth;
    if (max_include_depth)
        s->max_include_depth = max_include_depth;
}

/*
 * Checks each expression and defines its entities right away, then frees
 * the parsed values behind it: the values of the whole schema never sit
 * beside the whole model. QEMU's order of errors is kept: a definition
 * clash is held back until every expression has been checked.
 */
static void check_and_define(qs *s)
{
    qs_model_begin(s);
    /* about one implicit type or array per four definitions: sized once,
     * the table leaves no outgrown copies behind */
    hmap_reserve(s, &s->entities, s->exprs.n + s->exprs.n / 4 + 64);
    for (size_t i = 0; i < s->exprs.n; i++) {
        qexpr *x = s->exprs.v[i];
        qs_check_expr(s, x);
        if (!s->clash)
            qs_def_expr(s, x);
        qs_scratch_reset(s);
        qs_vals_release_before(x->mark);
    }
    vec_hfree(&s->exprs);
    qs_vals_free(s);
}

static int compile(qk_schema *s, const char *name, const char *data,
                   size_t len)
{
    if (!s || !name)
        return QK_ERR_INVAL;
    if (s->used)
        return QK_ERR_STATE;
    s->used = true;
    int r = setjmp(s->jb);
    if (r) {
        s->jb_set = false;
        for (size_t i = 0; i < s->srcbufs.n; i++)
            qk_free(s->srcbufs.v[i]);
        s->srcbufs.n = 0;
        qs_unmap_texts(s);
        if (s->pending_fd >= 0)
            close(s->pending_fd);
        s->pending_fd = -1;
        return r;
    }
    s->jb_set = true;
    const char *fname = qs_strdup(s, name);
    qs_parse_root(s, fname, data, len);
    if (s->compat == 2015)
        qs_compat_2015(s);
    hmap_free(&s->strings); /* every name is interned by now */
    doc_parse_done(s);
    check_and_define(s);
    qs_model_finish(s);
    s->ok = true;
    s->jb_set = false;
    return 0;
}

int qk_schema_compile_file(qk_schema *s, const char *path)
{
    return compile(s, path, NULL, 0);
}

int qk_schema_compile_buffer(qk_schema *s, const char *name,
                             const char *data, size_t len)
{
    if (!data && len)
        return QK_ERR_INVAL;
    return compile(s, name, data ? data : "", len);
}

const char *qk_schema_last_error(const qk_schema *s)
{
    return s ? s->last_error : NULL;
}

const qk_schema_entity *qk_schema_first(const qk_schema *s)
{
    return s && s->ok ? (const qk_schema_entity *)s->first : NULL;
}

const qk_schema_entity *qk_schema_next(const qk_schema_entity *e)
{
    return e ? (const qk_schema_entity *)((const entity *)e)->next : NULL;
}

qk_schema_kind qk_schema_entity_kind(const qk_schema_entity *e)
{
    return ((const entity *)e)->kind;
}

const char *qk_schema_entity_name(const qk_schema_entity *e)
{
    return ((const entity *)e)->name;
}

const char *qk_schema_entity_module(const qk_schema_entity *e)
{
    const entity *en = (const entity *)e;
    return en->mod ? en->mod->name : NULL;
}

size_t qk_schema_count(const qk_schema *s, qk_schema_kind kind)
{
    size_t n = 0;
    if (!s || !s->ok)
        return 0;
    for (const entity *e = s->first; e; e = e->next)
        if (e->kind == kind && e->info)
            n++;
    return n;
}

const qk_schema_entity *qk_schema_lookup(const qk_schema *s, const char *name)
{
    if (!s || !s->ok || !name)
        return NULL;
    return (const qk_schema_entity *)hmap_get(&s->entities, name);
}

const char *qk_schema_entity_meta(const qk_schema_entity *e)
{
    return ((const entity *)e)->meta;
}

bool qk_schema_entity_is_implicit(const qk_schema_entity *e)
{
    const entity *en = (const entity *)e;
    return !en->info || (en->kind == QK_SCHEMA_OBJECT &&
                         !strncmp(en->name, "q_", 2));
}

/* The kind-specific fields share storage: read them only for their kind. */
const qk_schema_entity *qk_schema_entity_base(const qk_schema_entity *e)
{
    const entity *en = (const entity *)e;
    return en->kind == QK_SCHEMA_OBJECT ? (const qk_schema_entity *)en->base
                                        : NULL;
}

const qk_schema_entity *qk_schema_entity_element(const qk_schema_entity *e)
{
    const entity *en = (const entity *)e;
    return en->kind == QK_SCHEMA_ARRAY ? (const qk_schema_entity *)en->elem
                                       : NULL;
}

const qk_schema_entity *qk_schema_entity_arg_type(const qk_schema_entity *e)
{
    const entity *en = (const entity *)e;
    return en->kind == QK_SCHEMA_COMMAND || en->kind == QK_SCHEMA_EVENT
               ? (const qk_schema_entity *)en->arg
               : NULL;
}

const qk_schema_entity *qk_schema_entity_ret_type(const qk_schema_entity *e)
{
    const entity *en = (const entity *)e;
    return en->kind == QK_SCHEMA_COMMAND ? (const qk_schema_entity *)en->ret
                                         : NULL;
}

unsigned qk_schema_entity_flags(const qk_schema_entity *e)
{
    const entity *en = (const entity *)e;
    if (en->kind != QK_SCHEMA_COMMAND && en->kind != QK_SCHEMA_EVENT)
        return 0;
    return (en->gen ? QK_SCHEMA_FLAG_GEN : 0) |
           (en->success_response ? QK_SCHEMA_FLAG_SUCCESS_RESPONSE : 0) |
           (en->boxed ? QK_SCHEMA_FLAG_BOXED : 0) |
           (en->allow_oob ? QK_SCHEMA_FLAG_ALLOW_OOB : 0) |
           (en->allow_preconfig ? QK_SCHEMA_FLAG_ALLOW_PRECONFIG : 0) |
           (en->coroutine ? QK_SCHEMA_FLAG_COROUTINE : 0);
}

static const vec *member_list(const entity *en, qk_schema_list which)
{
    switch (which) {
    case QK_SCHEMA_MEMBERS:
        return en->kind == QK_SCHEMA_OBJECT || en->kind == QK_SCHEMA_ENUM
                   ? &en->members
                   : NULL;
    case QK_SCHEMA_BRANCHES:
        return &en->variants;
    case QK_SCHEMA_FEATURES:
        return en->features;
    }
    return NULL;
}

size_t qk_schema_member_count(const qk_schema_entity *e,
                              qk_schema_list which)
{
    const vec *v = member_list((const entity *)e, which);
    return v ? v->n : 0;
}

const char *qk_schema_member_name(const qk_schema_entity *e,
                                  qk_schema_list which, size_t i)
{
    const vec *v = member_list((const entity *)e, which);
    if (!v || i >= v->n)
        return NULL;
    if (which == QK_SCHEMA_FEATURES)
        return ((const feature *)v->v[i])->name;
    return ((const member *)v->v[i])->name;
}

const qk_schema_entity *qk_schema_member_type(const qk_schema_entity *e,
                                              qk_schema_list which, size_t i)
{
    const vec *v = member_list((const entity *)e, which);
    if (!v || i >= v->n || which == QK_SCHEMA_FEATURES)
        return NULL;
    return (const qk_schema_entity *)((const member *)v->v[i])->type;
}

bool qk_schema_member_optional(const qk_schema_entity *e,
                               qk_schema_list which, size_t i)
{
    const vec *v = member_list((const entity *)e, which);
    if (!v || i >= v->n || which == QK_SCHEMA_FEATURES)
        return false;
    return ((const member *)v->v[i])->optional;
}

const char *qk_schema_entity_tag(const qk_schema_entity *e)
{
    const entity *en = (const entity *)e;
    return en->tag_member ? en->tag_member->name : NULL;
}

static int cond_c(const qv *c, qk_buf *out, bool top)
{
    int r = 0;
    if (c->kind == QV_STR)
        return qk_buf_printf(out, "defined(%s)", c->s);
    const char *op = c->obj[0].key;
    const qv *arg = c->obj[0].val;
    if (!strcmp(op, "not")) {
        r |= qk_buf_append_char(out, '!');
        return r | cond_c(arg, out, false);
    }
    if (!top)
        r |= qk_buf_append_char(out, '(');
    for (size_t i = 0; i < arg->n; i++) {
        if (i)
            r |= qk_buf_append_str(out, !strcmp(op, "all") ? " && " : " || ");
        r |= cond_c(arg->list[i], out, false);
    }
    if (!top)
        r |= qk_buf_append_char(out, ')');
    return r;
}

int qk_schema_entity_if_c(const qk_schema_entity *e, qk_buf *out)
{
    const entity *en = (const entity *)e;
    if (!en->ifcond)
        return 0;
    return cond_c(en->ifcond, out, true) ? QK_ERR_NOMEM : 1;
}
