/* SPDX-License-Identifier: MIT */
/*
 * The model dump in the format of QEMU's schema test harness
 * (tests/qapi-schema/test-qapi.py; checklist section 2): modules in order,
 * each module's entities in definition order, then every doc block. It is
 * the conformance suite's view of the model, so it is byte-exact.
 */
#include <string.h>

#include "schema/schema-int.h"

static int put_cond(qk_buf *b, const qv *c, bool top)
{
    int r = 0;
    switch (c->kind) {
    case QV_STR:
        if (top)
            return qk_buf_append_str(b, c->s);
        return qk_buf_printf(b, "'%s'", c->s);
    case QV_LIST:
        r |= qk_buf_append_char(b, '[');
        for (size_t i = 0; i < c->n; i++) {
            if (i)
                r |= qk_buf_append_str(b, ", ");
            r |= put_cond(b, c->list[i], false);
        }
        return r | qk_buf_append_char(b, ']');
    case QV_OBJ:
        r |= qk_buf_append_char(b, '{');
        for (size_t i = 0; i < c->n; i++) {
            if (i)
                r |= qk_buf_append_str(b, ", ");
            r |= qk_buf_printf(b, "'%s': ", c->obj[i].key);
            r |= put_cond(b, c->obj[i].val, false);
        }
        return r | qk_buf_append_char(b, '}');
    case QV_BOOL:
        return qk_buf_append_str(b, c->b ? "True" : "False");
    }
    return r;
}

static int put_if(qk_buf *b, const qv *c, int indent)
{
    if (!c)
        return 0;
    int r = qk_buf_printf(b, "%*sif ", indent, "");
    r |= put_cond(b, c, true);
    return r | qk_buf_append_char(b, '\n');
}

static int put_features(qk_buf *b, const vec *fs, int indent)
{
    int r = 0;
    for (size_t i = 0; i < fs->n; i++) {
        const feature *f = fs->v[i];
        r |= qk_buf_printf(b, "%*sfeature %s\n", indent, "", f->name);
        r |= put_if(b, f->ifcond, indent + 4);
    }
    return r;
}

static int put_variants(qk_buf *b, const entity *e)
{
    int r = 0;
    if (!e->tag_member)
        return 0;
    r |= qk_buf_printf(b, "    tag %s\n", e->tag_member->name);
    for (size_t i = 0; i < e->variants.n; i++) {
        const member *v = e->variants.v[i];
        r |= qk_buf_printf(b, "    case %s: %s\n", v->name, v->type->name);
        r |= put_if(b, v->ifcond, 8);
    }
    return r;
}

static const char *tf(bool v)
{
    return v ? "True" : "False";
}

static int put_entity(qk_buf *b, const entity *e)
{
    int r = 0;
    switch (e->kind) {
    case QK_SCHEMA_BUILTIN:
        return 0;
    case QK_SCHEMA_INCLUDE:
        return qk_buf_printf(b, "include %s\n", e->name);
    case QK_SCHEMA_ENUM:
        r |= qk_buf_printf(b, "enum %s\n", e->name);
        if (e->prefix && e->prefix[0])
            r |= qk_buf_printf(b, "    prefix %s\n", e->prefix);
        for (size_t i = 0; i < e->members.n; i++) {
            const member *m = e->members.v[i];
            r |= qk_buf_printf(b, "    member %s\n", m->name);
            r |= put_if(b, m->ifcond, 8);
            r |= put_features(b, m->features, 8);
        }
        r |= put_if(b, e->ifcond, 4);
        return r | put_features(b, e->features, 4);
    case QK_SCHEMA_ARRAY:
        if (!e->info)
            return 0;
        r |= qk_buf_printf(b, "array %s %s\n", e->name, e->elem->name);
        return r | put_if(b, e->ifcond, 4);
    case QK_SCHEMA_OBJECT:
        r |= qk_buf_printf(b, "object %s\n", e->name);
        if (e->base)
            r |= qk_buf_printf(b, "    base %s\n", e->base->name);
        for (size_t i = 0; i < e->members.n; i++) {
            const member *m = e->members.v[i];
            r |= qk_buf_printf(b, "    member %s: %s optional=%s\n", m->name,
                               m->type->name, tf(m->optional));
            r |= put_if(b, m->ifcond, 8);
            r |= put_features(b, m->features, 8);
        }
        r |= put_variants(b, e);
        r |= put_if(b, e->ifcond, 4);
        return r | put_features(b, e->features, 4);
    case QK_SCHEMA_ALTERNATE:
        r |= qk_buf_printf(b, "alternate %s\n", e->name);
        r |= put_variants(b, e);
        r |= put_if(b, e->ifcond, 4);
        return r | put_features(b, e->features, 4);
    case QK_SCHEMA_COMMAND:
        r |= qk_buf_printf(b, "command %s %s -> %s\n", e->name,
                           e->arg ? e->arg->name : "None",
                           e->ret ? e->ret->name : "None");
        r |= qk_buf_printf(
            b, "    gen=%s success_response=%s boxed=%s oob=%s preconfig=%s%s\n",
            tf(e->gen), tf(e->success_response), tf(e->boxed),
            tf(e->allow_oob), tf(e->allow_preconfig),
            e->coroutine ? " coroutine=True" : "");
        r |= put_if(b, e->ifcond, 4);
        return r | put_features(b, e->features, 4);
    case QK_SCHEMA_EVENT:
        r |= qk_buf_printf(b, "event %s %s\n", e->name,
                           e->arg ? e->arg->name : "None");
        r |= qk_buf_printf(b, "    boxed=%s\n", tf(e->boxed));
        r |= put_if(b, e->ifcond, 4);
        return r | put_features(b, e->features, 4);
    }
    return r;
}

static int put_text(qk_buf *b, const doc_section *sec)
{
    return qk_buf_append_str(b, sec->text) | qk_buf_append_char(b, '\n');
}

static int put_doc(qk_buf *b, const qapi_doc *doc)
{
    int r = 0;
    if (doc->symbol)
        r |= qk_buf_printf(b, "doc symbol=%s\n", doc->symbol);
    else
        r |= qk_buf_append_str(b, "doc freeform\n");
    r |= qk_buf_append_str(b, "    body=\n");
    r |= put_text(b, doc->body);
    for (size_t i = 0; i < doc->args.n; i++) {
        const doc_section *sec = doc->args.v[i];
        r |= qk_buf_printf(b, "    arg=%s\n", sec->name);
        r |= put_text(b, sec);
    }
    for (size_t i = 0; i < doc->features.n; i++) {
        const doc_section *sec = doc->features.v[i];
        r |= qk_buf_printf(b, "    feature=%s\n", sec->name);
        r |= put_text(b, sec);
    }
    static const char *const kinds[] = {"Plain",   "Member", "Feature",
                                        "Returns", "Errors", "Since",
                                        "Todo"};
    for (size_t i = 0; i < doc->sections.n; i++) {
        const doc_section *sec = doc->sections.v[i];
        r |= qk_buf_printf(b, "    section=%s\n", kinds[sec->kind]);
        r |= put_text(b, sec);
    }
    return r;
}

int qk_schema_dump(const qk_schema *s, qk_buf *out)
{
    if (!s || !out)
        return QK_ERR_INVAL;
    if (!s->ok || s->drop_doc_text)
        return QK_ERR_STATE;
    int r = 0;
    for (size_t i = 0; i < s->modules.n; i++) {
        const module *m = s->modules.v[i];
        r |= qk_buf_printf(out, "module %s\n", m->name);
        for (size_t j = 0; j < m->entities.n; j++)
            r |= put_entity(out, m->entities.v[j]);
    }
    for (size_t i = 0; i < s->docs.n; i++)
        r |= put_doc(out, s->docs.v[i]);
    return r ? QK_ERR_NOMEM : 0;
}
