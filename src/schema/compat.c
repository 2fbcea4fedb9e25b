/* SPDX-License-Identifier: MIT */
/*
 * The 2015 schema language (--compat=2015), as the May 2015 edition of
 * qapi-code-gen.txt describes it, desugared into the modern language before
 * the expression checks run:
 *
 *   { 'type': 'T', 'data': ... }            -> { 'struct': 'T', ... }
 *   { 'union': 'U', 'discriminator': {},
 *     'data': ... }                         -> { 'alternate': 'U', ... }
 *   simple union { 'union': 'U', 'data': { 'b': 'T', ... } }
 *                                           -> { 'enum': 'UKind',
 *                                                'data': [ 'b', ... ] }
 *                                              { 'union': 'U',
 *                                                'base': { 'type': 'UKind' },
 *                                                'discriminator': 'type',
 *                                                'data': { 'b': WRAP(T) } }
 *     where WRAP(T) is the implicit struct q_obj_T-wrapper with the single
 *     member 'data': T (made when the model is built), so the wire form is
 *     { "type": "b", "data": ... } as in 2015;
 *   '**' as a type                          -> 'any'
 *
 * The 2015 naming habits (underscores in command and member names) are
 * accepted too. Everything else is checked as in the modern language.
 */
#include <string.h>

#include "schema/schema-int.h"

static bool is_meta_free(const qv *e)
{
    static const char *const metas[] = {"enum", "struct", "union",
                                        "alternate", "command", "event",
                                        "include"};
    for (size_t i = 0; i < 7; i++)
        if (qv_has(e, metas[i]))
            return false;
    return true;
}

static void rename_key(qv *obj, const char *from, const char *to)
{
    for (size_t i = 0; i < obj->n; i++)
        if (!strcmp(obj->obj[i].key, from))
            obj->obj[i].key = to;
}

static void remove_key(qv *obj, const char *key)
{
    size_t o = 0;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->obj[i].key, key))
            obj->obj[o++] = obj->obj[i];
    obj->n = o;
}

/* '**' -> 'any' in a type position (string, one-element list, or the
 * 'type' of a long-form member). */
static qv *fix_type(qs *s, qv *t)
{
    if (!t)
        return t;
    if (t->kind == QV_STR && !strcmp(t->s, "**"))
        return qv_intern(s, "any", 3);
    if (t->kind == QV_LIST && t->n == 1 && t->list[0]->kind == QV_STR &&
        !strcmp(t->list[0]->s, "**"))
        t->list[0] = qv_intern(s, "any", 3);
    if (t->kind == QV_OBJ)
        for (size_t i = 0; i < t->n; i++)
            if (!strcmp(t->obj[i].key, "type"))
                t->obj[i].val = fix_type(s, t->obj[i].val);
    return t;
}

static void fix_members(qs *s, qv *data)
{
    if (!data || data->kind != QV_OBJ)
        return;
    for (size_t i = 0; i < data->n; i++)
        data->obj[i].val = fix_type(s, data->obj[i].val);
}

void qs_compat_2015(qs *s)
{
    /* the list is rebuilt; the old one is registered with the source
     * buffers, which an unwind frees */
    vec in = s->exprs;
    s->exprs = (vec){0};
    vec_push(s, &s->srcbufs, in.v);
    size_t slot = s->srcbufs.n - 1;
    for (size_t i = 0; i < in.n; i++) {
        qexpr *x = in.v[i];
        qv *e = x->expr;
        if (qv_has(e, "type") && is_meta_free(e))
            rename_key(e, "type", "struct");
        for (size_t k = 0; k < e->n; k++) {
            if (!strcmp(e->obj[k].key, "data"))
                fix_members(s, e->obj[k].val);
            if (!strcmp(e->obj[k].key, "returns"))
                e->obj[k].val = fix_type(s, e->obj[k].val);
        }
        qv *u = qv_get(e, "union");
        qv *disc = qv_get(e, "discriminator");
        if (u && disc && disc->kind == QV_OBJ && disc->n == 0) {
            rename_key(e, "union", "alternate");
            remove_key(e, "discriminator");
        } else if (u && u->kind == QV_STR && !disc && !qv_has(e, "base")) {
            qv *data = qv_get(e, "data");
            if (data && data->kind == QV_OBJ) {
                /* the implicit enum UKind, defined right before U */
                qv *vals = qs_alloc(s, sizeof(*vals));
                vals->kind = QV_LIST;
                vals->n = data->n;
                vals->list = qs_alloc(s, (data->n + 1) * sizeof(qv *));
                for (size_t k = 0; k < data->n; k++) {
                    const char *b = data->obj[k].key;
                    qv *v = qv_new_obj1(s, "name",
                                        qv_intern(s, b, strlen(b)));
                    qv *bv = data->obj[k].val;
                    qv *cond = bv->kind == QV_OBJ ? qv_get(bv, "if") : NULL;
                    if (cond) {
                        qv_pair *np = qs_alloc(s, 2 * sizeof(qv_pair));
                        np[0] = v->obj[0];
                        np[1].key = "if";
                        np[1].val = cond;
                        v->obj = np;
                        v->n = 2;
                    }
                    vals->list[k] = v;
                }
                const char *kind = qs_printf(s, "%sKind", u->s);
                qv *en = qv_new_obj1(s, "enum", qv_intern(s, kind,
                                                          strlen(kind)));
                qv_pair *np = qs_alloc(s, 2 * sizeof(qv_pair));
                np[0] = en->obj[0];
                np[1].key = "data";
                np[1].val = vals;
                en->obj = np;
                en->n = 2;
                qexpr *ex = qs_alloc(s, sizeof(*ex));
                ex->expr = en;
                ex->info = x->info;
                vec_hpush(s, &s->exprs, ex);
                /* the union itself */
                qv_pair *up = qs_alloc(s, (e->n + 2) * sizeof(qv_pair));
                memcpy(up, e->obj, e->n * sizeof(qv_pair));
                up[e->n].key = "base";
                up[e->n].val = qv_new_obj1(s, "type",
                                           qv_intern(s, kind, strlen(kind)));
                up[e->n + 1].key = "discriminator";
                up[e->n + 1].val = qv_intern(s, "type", 4);
                e->obj = up;
                e->n += 2;
                x->simple_union = true;
            }
        }
        vec_hpush(s, &s->exprs, x);
    }
    s->srcbufs.v[slot] = NULL;
    vec_hfree(&in);
}
