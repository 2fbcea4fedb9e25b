/* SPDX-License-Identifier: MIT */
/*
 * The memory layout of JSON values, shared by value.c, pack.c and writer.c
 * (and available to the parser for inline fast paths). Nothing outside
 * src/json may depend on it. docs/json-values.md explains the choices.
 *
 * Every value starts with a struct qk_json header: an atomic reference
 * count, the type and a flag for the static singletons (null, true, false),
 * whose counts are never touched. Scalars are one allocation each; a
 * string keeps its bytes inline after its length. Arrays and objects have
 * room for a few items inside the same allocation and move to a heap
 * array when they grow past it; objects add a hash index once they pass
 * QK_JSON_INDEX_MIN members.
 */
#ifndef QK_VALUE_LAYOUT_INT_H
#define QK_VALUE_LAYOUT_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "qmpkit/json.h"

struct qk_json {
    atomic_uint_least32_t refcnt;
    uint8_t type;      /* qk_json_type */
    uint8_t is_static; /* null/true/false: no counting, never freed */
    uint8_t sclass;    /* node cache size class + 1, or 0 (value.c) */
};

typedef struct qk_json_num {
    qk_json hdr;
    union {
        int64_t i;
        uint64_t u;
        double d;
    } v;
} qk_json_num;

/* The data area of a string is at least this long and its first bytes are
 * initialised, so the writer may load a short string as one word. */
#define QK_JSON_STR_MIN_DATA 8

typedef struct qk_json_str {
    qk_json hdr;
    size_t len;
    char data[]; /* len bytes and a NUL (at least QK_JSON_STR_MIN_DATA) */
} qk_json_str;

#define QK_JSON_ARRAY_INLINE 4

typedef struct qk_json_arr {
    qk_json hdr;
    size_t len;
    union {
        size_t cap;
        qk_json *dead_next; /* link while being destroyed */
    } u;
    qk_json **items; /* inline or heap */
    qk_json *inl[QK_JSON_ARRAY_INLINE];
} qk_json_arr;

typedef struct qk_json_member {
    qk_json *key; /* always a string value */
    qk_json *value;
} qk_json_member;

/* A slot of the open-addressing index: hash of the key and entry + 1
 * (0 marks an empty slot). */
typedef struct qk_json_slot {
    uint32_t hash;
    uint32_t idx1;
} qk_json_slot;

#define QK_JSON_OBJECT_INLINE 4
#define QK_JSON_INDEX_MIN 8 /* objects with more members get an index */

typedef struct qk_json_obj {
    qk_json hdr;
    uint32_t len;
    uint32_t index_mask; /* slots - 1, when index != NULL */
    union {
        size_t cap;
        qk_json *dead_next;
    } u;
    qk_json_member *m; /* inline or heap */
    qk_json_slot *index;
    qk_json_member inl[QK_JSON_OBJECT_INLINE];
} qk_json_obj;

#define QK_NUM(v) ((qk_json_num *)(v))
#define QK_STR(v) ((qk_json_str *)(v))
#define QK_ARR(v) ((qk_json_arr *)(v))
#define QK_OBJ(v) ((qk_json_obj *)(v))
#define QK_CNUM(v) ((const qk_json_num *)(v))
#define QK_CSTR(v) ((const qk_json_str *)(v))
#define QK_CARR(v) ((const qk_json_arr *)(v))
#define QK_COBJ(v) ((const qk_json_obj *)(v))

extern qk_json qk_json__true_value;

/* Appends a member known not to be present; both references are consumed
 * on success only. Room must have been reserved (cannot fail then). */
int qk_json__object_reserve(qk_json *o, size_t n);
void qk_json__object_push_unchecked(qk_json *o, qk_json *key, qk_json *v);
int qk_json__array_reserve(qk_json *a, size_t n);

#endif
