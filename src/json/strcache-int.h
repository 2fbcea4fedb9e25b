/* SPDX-License-Identifier: MIT */
/*
 * A small cache of short string values, so that a parser hands out one
 * shared (immutable, refcounted) value for the keys and names a message
 * repeats ("name", "type", "arg-type", ...) instead of allocating each.
 */
#ifndef QK_STRCACHE_INT_H
#define QK_STRCACHE_INT_H

#include <stddef.h>

#include "qmpkit/json.h"

#define QK_STRCACHE_SLOTS 1024
#define QK_STRCACHE_MAXLEN 32

/* The table is allocated on first use, so an idle parser costs nothing. */
typedef struct qk_strcache {
    qk_json **slot;
} qk_strcache;

/* A new reference to a string value holding exactly these bytes (plain
 * text: no escapes to decode); shared when it is short. NULL on OOM. */
qk_json *qk_strcache_get(qk_strcache *c, const char *s, size_t len);
/* Drops every cached value. */
void qk_strcache_clear(qk_strcache *c);

#endif
