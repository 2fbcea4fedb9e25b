/* SPDX-License-Identifier: MIT */
/*
 * Internal allocation entry points. Everything in qmpkit allocates through
 * these so the allocator hooks (and the tests' failure injection) see it all.
 */
#ifndef QK_ALLOC_INT_H
#define QK_ALLOC_INT_H

#include <stddef.h>

#include "qmpkit/common.h"

void *qk_malloc(size_t size);
void *qk_calloc(size_t n, size_t size);
/* realloc that never frees on failure; size 0 is treated as 1. */
void *qk_realloc(void *ptr, size_t size);
char *qk_strndup(const char *s, size_t len);
char *qk_strdup(const char *s);

/* Growth helper: the next capacity >= need, doubling from cur (min 16).
 * Returns 0 on size_t overflow. */
size_t qk_grow_capacity(size_t cur, size_t need);

/* True while the default hooks (malloc, realloc, free) are installed.
 * Caches of freed blocks (value.c) are used only then, so a caller's
 * allocator, and the tests' counting one, see every block come and go. */
extern bool qk__alloc_default;
/* Inline: value.c asks for every block it takes from its cache. */
static inline bool qk_alloc_is_default(void)
{
    return qk__alloc_default;
}

#endif
