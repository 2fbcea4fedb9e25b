/* SPDX-License-Identifier: MIT */
/*
 * Internal fast paths of the value model, for the parser: build strings in
 * place and insert object members without copying keys.
 */
#ifndef QK_VALUE_INT_H
#define QK_VALUE_INT_H

#include "qmpkit/json.h"

/* A string value with room for maxlen bytes (+NUL) at *data; set the real
 * length with qk_json__string_set_len before sharing it. NULL on OOM. */
qk_json *qk_json__string_alloc(size_t maxlen, char **data);
/* Sets the length (<= maxlen) and writes the terminating NUL. */
void qk_json__string_set_len(qk_json *s, size_t len);

/*
 * Appends a member whose key is a string value; both key and value are
 * consumed (also on failure). Returns 0, QK_ERR_NOMEM, or QK_ERR_INVAL if
 * the key is already present (the object is then unchanged).
 */
int qk_json__object_add_unique_take(qk_json *o, qk_json *key, qk_json *value);

/* Takes n references at once (one atomic operation). */
void qk_json__ref_n(qk_json *v, uint32_t n);
/* Sets the count of a value nobody else can see yet to n. */
void qk_json__set_refs(qk_json *v, uint32_t n);
/* Drops n references held by the caller at once. */
void qk_json__unref_n(qk_json *v, uint32_t n);

#endif
