/* SPDX-License-Identifier: MIT */
/*
 * The command table a server session dispatches from (QEMU's
 * QmpCommandList): name, handler, options, enabled state. Filled by hand
 * or by generated code; registration order is kept for query-commands.
 * Lookup is a small open-addressing hash on the name.
 */
#include <string.h>

#include "proto/session-int.h"

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

qk_command_table *qk_command_table_new(void)
{
    qk_command_table *t = qk_calloc(1, sizeof *t);
    if (t)
        atomic_init(&t->refs, 1);
    return t;
}

qk_command_table *qk_command_table_ref(qk_command_table *t)
{
    if (t)
        atomic_fetch_add(&t->refs, 1);
    return t;
}

void qk_command_table_unref(qk_command_table *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    for (size_t i = 0; i < t->n; i++) {
        qk_free(t->cmds[i].name);
        qk_free(t->cmds[i].reason);
    }
    qk_free(t->cmds);
    qk_free(t->index);
    qk_free(t);
}

static qk_command *find(const qk_command_table *t, const char *name)
{
    if (!t || !t->index_cap)
        return NULL;
    size_t mask = t->index_cap - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        uint32_t slot = t->index[i];
        if (!slot)
            return NULL;
        if (strcmp(t->cmds[slot - 1].name, name) == 0)
            return &t->cmds[slot - 1];
    }
}

const qk_command *qk__table_find(const qk_command_table *t, const char *name)
{
    return find(t, name);
}

static int reindex(qk_command_table *t, size_t cap)
{
    uint32_t *idx = qk_calloc(cap, sizeof *idx);
    if (!idx)
        return QK_ERR_NOMEM;
    for (size_t c = 0; c < t->n; c++) {
        size_t i = name_hash(t->cmds[c].name) & (cap - 1);
        while (idx[i])
            i = (i + 1) & (cap - 1);
        idx[i] = (uint32_t)c + 1;
    }
    qk_free(t->index);
    t->index = idx;
    t->index_cap = cap;
    return 0;
}

int qk_command_table_add(qk_command_table *t, const char *name,
                         qk_command_fn fn, unsigned flags, void *opaque)
{
    if (!t || !name || !fn || find(t, name) || t->n >= UINT32_MAX - 1)
        return QK_ERR_INVAL;
    if (t->n == t->cap) {
        size_t cap = qk_grow_capacity(t->cap, t->n + 1);
        qk_command *c = qk_realloc(t->cmds, cap * sizeof *c);
        if (!c)
            return QK_ERR_NOMEM;
        t->cmds = c;
        t->cap = cap;
    }
    /* keep the index at most half full */
    if ((t->n + 1) * 2 > t->index_cap) {
        size_t cap = t->index_cap ? t->index_cap * 2 : 16;
        /* reindex sees the new command only once it is in place */
        int rc = reindex(t, cap);
        if (rc < 0)
            return rc;
    }
    char *copy = qk_strdup(name);
    if (!copy)
        return QK_ERR_NOMEM;
    qk_command *c = &t->cmds[t->n];
    *c = (qk_command){copy, fn, flags, opaque, true, NULL};
    size_t mask = t->index_cap - 1;
    size_t i = name_hash(copy) & mask;
    while (t->index[i])
        i = (i + 1) & mask;
    t->index[i] = (uint32_t)t->n + 1;
    t->n++;
    return 0;
}

int qk_command_table_disable(qk_command_table *t, const char *name,
                             const char *reason)
{
    qk_command *c = name ? find(t, name) : NULL;
    if (!c)
        return QK_ERR_NOENT;
    char *r = NULL;
    if (reason && !(r = qk_strdup(reason)))
        return QK_ERR_NOMEM;
    qk_free(c->reason);
    c->reason = r;
    c->enabled = false;
    return 0;
}

int qk_command_table_enable(qk_command_table *t, const char *name)
{
    qk_command *c = name ? find(t, name) : NULL;
    if (!c)
        return QK_ERR_NOENT;
    qk_free(c->reason);
    c->reason = NULL;
    c->enabled = true;
    return 0;
}

size_t qk_command_table_size(const qk_command_table *t)
{
    return t ? t->n : 0;
}
