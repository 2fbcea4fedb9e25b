/* SPDX-License-Identifier: MIT */
/*
 * A small cache of short string values, so that a parser hands out one
 * shared (immutable, refcounted) value for the keys and names a message
 * repeats ("name", "type", "arg-type", ...) instead of allocating each.
 */
#ifndef QK_STRCACHE_INT_H
#define QK_STRCACHE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "qmpkit/json.h"

#define QK_STRCACHE_MIN_SLOTS 64
#define QK_STRCACHE_MAX_SLOTS 1024
#define QK_STRCACHE_MAXLEN 32

/* The table is allocated on first use and starts small, so an idle or
 * lightly used parser costs little; it grows when strings keep missing. */
typedef struct qk_strcache_slot {
    qk_json *v;
    uint64_t w0, w1; /* the key's words (see strcache.c) */
} qk_strcache_slot;

typedef struct qk_strcache {
    qk_strcache_slot *slot;
    uint32_t mask;   /* slots - 1 */
    uint32_t misses; /* since the table last grew */
} qk_strcache;

/* A new reference to a string value holding exactly these bytes (plain
 * text: no escapes to decode); shared when it is short. avail >= len is how
 * many bytes may be read at s (reading a little past the string is
 * faster). NULL on OOM. */
qk_json *qk_strcache_get(qk_strcache *c, const char *s, size_t len,
                         size_t avail);
/* Drops every cached value. */
void qk_strcache_clear(qk_strcache *c);

#endif
