/* SPDX-License-Identifier: MIT */
/*
 * The allocator hooks. One process-wide table, set before use, so that
 * values need not carry a context; tests install a failing allocator to
 * prove that every out-of-memory path is clean.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc-int.h"

static qk_allocator hooks = {malloc, realloc, free};
bool qk__alloc_default = true;

void qk_set_allocator(const qk_allocator *a)
{
    if (a && a->malloc && a->realloc && a->free)
        hooks = *a;
    else
        hooks = (qk_allocator){malloc, realloc, free};
    qk__alloc_default = hooks.malloc == malloc && hooks.realloc == realloc &&
                    hooks.free == free;
}

void *qk_malloc(size_t size)
{
    return hooks.malloc(size ? size : 1);
}

void *qk_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = qk_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *qk_realloc(void *ptr, size_t size)
{
    if (!ptr)
        return qk_malloc(size);
    return hooks.realloc(ptr, size ? size : 1);
}

void qk_free(void *ptr)
{
    if (ptr)
        hooks.free(ptr);
}

char *qk_strndup(const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *d = qk_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = 0;
    }
    return d;
}

char *qk_strdup(const char *s)
{
    return qk_strndup(s, strlen(s));
}

size_t qk_grow_capacity(size_t cur, size_t need)
{
    size_t cap = cur < 16 ? 16 : cur;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return need;
        cap *= 2;
    }
    return cap;
}
