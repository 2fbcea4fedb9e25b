/* SPDX-License-Identifier: MIT */
/*
 * The JSON value model: refcounted, immutable once shared, cheap to build.
 *
 * This is what the QMP layers exchange: the parser builds these values, the
 * marshallers read them, the writer prints them (checklist 5.1 for the
 * number typing it must keep: int64, then uint64, then double). Layout and
 * ownership rules are in value-layout-int.h and docs/json-values.md.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc-int.h"
#include "common/block-cache-int.h"
#include "json/value-int.h"
#include "json/value-layout-int.h"

/* ---- singletons -------------------------------------------------------- */

static qk_json null_value = {.type = QK_JSON_NULL, .is_static = 1};
qk_json qk_json__true_value = {.type = QK_JSON_BOOL, .is_static = 1};
static qk_json false_value = {.type = QK_JSON_BOOL, .is_static = 1};

qk_json *qk_json_null(void)
{
    return &null_value;
}

qk_json *qk_json_bool(bool b)
{
    return b ? &qk_json__true_value : &false_value;
}

/* ---- node cache -------------------------------------------------------- */

/* Value blocks up to 128 bytes (numbers, most strings, containers) are
 * recycled through the per-thread small-block cache (common/
 * block-cache-int.h); a value records its class, so freeing needs no
 * size look-up. */

/* A block of size bytes; *cls records where it must go back to. */
static inline void *node_alloc(size_t size, uint8_t *cls)
{
    unsigned c = QK_BLOCK_CACHE ? qk__block_class(size) : 0;
    if (c && qk_alloc_is_default()) {
        void *p = qk__bcache_take(c);
        *cls = (uint8_t)c;
        /* else the full class size, so the block can be reused */
        return p ? p : qk_malloc(c * 16);
    }
    *cls = 0;
    return qk_malloc(size);
}

/* Frees a value block; cache_on is qk__bcache_on(), computed once per
 * batch. */
static inline void node_free_in(qk_json *v, bool cache_on)
{
    if (cache_on && v->sclass && qk__bcache_keep(v, v->sclass))
        return;
    qk_free(v);
}

/* ---- constructors ------------------------------------------------------ */

static inline void hdr_init(qk_json *v, qk_json_type t)
{
    atomic_init(&v->refcnt, 1);
    v->type = (uint8_t)t;
    v->is_static = 0;
}

static qk_json *num_new(qk_json_type t)
{
    uint8_t cls;
    qk_json_num *n = node_alloc(sizeof *n, &cls);
    if (!n)
        return NULL;
    n->hdr.sclass = cls;
    hdr_init(&n->hdr, t);
    return &n->hdr;
}

qk_json *qk_json_int_new(int64_t i)
{
    qk_json *v = num_new(QK_JSON_INT);
    if (v)
        QK_NUM(v)->v.i = i;
    return v;
}

qk_json *qk_json_uint_new(uint64_t u)
{
    if (u <= INT64_MAX)
        return qk_json_int_new((int64_t)u);
    qk_json *v = num_new(QK_JSON_UINT);
    if (v)
        QK_NUM(v)->v.u = u;
    return v;
}

qk_json *qk_json_double_new(double d)
{
    qk_json *v = num_new(QK_JSON_DOUBLE);
    if (v)
        QK_NUM(v)->v.d = d;
    return v;
}

qk_json *qk_json__string_alloc(size_t maxlen, char **data)
{
    if (maxlen > SIZE_MAX - sizeof(qk_json_str) - QK_JSON_STR_MIN_DATA)
        return NULL;
    size_t room = maxlen + 1 < QK_JSON_STR_MIN_DATA ? QK_JSON_STR_MIN_DATA : maxlen + 1;
    uint8_t cls;
    qk_json_str *s = node_alloc(sizeof *s + room, &cls);
    if (!s)
        return NULL;
    s->hdr.sclass = cls;
    hdr_init(&s->hdr, QK_JSON_STRING);
    s->len = maxlen;
    memset(s->data, 0, QK_JSON_STR_MIN_DATA); /* defined bytes for word loads */
    s->data[maxlen] = 0;
    *data = s->data;
    return &s->hdr;
}

void qk_json__string_set_len(qk_json *v, size_t len)
{
    QK_STR(v)->len = len;
    QK_STR(v)->data[len] = 0;
}

/* memcpy for the short strings that most values are, without a call:
 * two overlapping loads and stores cover any length in [k, 2k]. */
static inline void copy_short(char *d, const char *s, size_t n)
{
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

qk_json *qk_json_string_new_len(const char *s, size_t len)
{
    char *d;
    qk_json *v = qk_json__string_alloc(len, &d);
    if (!v)
        return NULL;
    if (len <= 16)
        copy_short(d, s, len);
    else
        memcpy(d, s, len);
    return v;
}

qk_json *qk_json_string_new(const char *s)
{
    if (!s)
        return NULL;
    return qk_json_string_new_len(s, strlen(s));
}

qk_json *qk_json_string_newf(const char *fmt, ...)
{
    va_list ap;
    char small[128];

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    if ((size_t)n < sizeof small)
        return qk_json_string_new_len(small, (size_t)n);
    char *d;
    qk_json *v = qk_json__string_alloc((size_t)n, &d);
    if (!v)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return v;
}

qk_json *qk_json_array_new(void)
{
    uint8_t cls;
    qk_json_arr *a = node_alloc(sizeof *a, &cls);
    if (!a)
        return NULL;
    a->hdr.sclass = cls;
    hdr_init(&a->hdr, QK_JSON_ARRAY);
    a->len = 0;
    a->u.cap = QK_JSON_ARRAY_INLINE;
    a->items = a->inl;
    return &a->hdr;
}

qk_json *qk_json_object_new(void)
{
    uint8_t cls;
    qk_json_obj *o = node_alloc(sizeof *o, &cls);
    if (!o)
        return NULL;
    o->hdr.sclass = cls;
    hdr_init(&o->hdr, QK_JSON_OBJECT);
    o->len = 0;
    o->index_mask = 0;
    o->u.cap = QK_JSON_OBJECT_INLINE;
    o->m = o->inl;
    o->index = NULL;
    return &o->hdr;
}

/* ---- references -------------------------------------------------------- */

qk_json *qk_json_ref(qk_json *v)
{
    if (v && !v->is_static)
        atomic_fetch_add_explicit(&v->refcnt, 1, memory_order_relaxed);
    return v;
}

void qk_json__ref_n(qk_json *v, uint32_t n)
{
    if (!v->is_static)
        atomic_fetch_add_explicit(&v->refcnt, n, memory_order_relaxed);
}

void qk_json__set_refs(qk_json *v, uint32_t n)
{
    if (!v->is_static)
        atomic_store_explicit(&v->refcnt, n, memory_order_relaxed);
}

void qk_json__unref_n(qk_json *v, uint32_t n)
{
    if (v->is_static || n == 0)
        return;
    if (atomic_fetch_sub_explicit(&v->refcnt, n, memory_order_release) != n)
        return;
    /* They were the last: free it as qk_json_unref would. */
    atomic_thread_fence(memory_order_acquire);
    atomic_store_explicit(&v->refcnt, 1, memory_order_relaxed);
    qk_json_unref(v);
}

/*
 * True when the caller held the last reference. A count of 1 seen with an
 * acquire load means nobody else can hold (or take) a reference, so the
 * atomic read-modify-write is skipped: this makes freeing a freshly parsed
 * tree cheap.
 */
static inline bool release(qk_json *v)
{
    if (atomic_load_explicit(&v->refcnt, memory_order_acquire) == 1)
        return true;
    if (atomic_fetch_sub_explicit(&v->refcnt, 1, memory_order_release) != 1)
        return false;
    atomic_thread_fence(memory_order_acquire);
    return true;
}

/* Drops a child's reference; a dead container is queued on *dead instead
 * of being destroyed recursively. */
static inline void release_child(qk_json *c, qk_json **dead, bool cache_on)
{
    if (c->is_static || !release(c))
        return;
    if (c->type == QK_JSON_ARRAY) {
        QK_ARR(c)->u.dead_next = *dead;
        *dead = c;
    } else if (c->type == QK_JSON_OBJECT) {
        QK_OBJ(c)->u.dead_next = *dead;
        *dead = c;
    } else {
        node_free_in(c, cache_on);
    }
}

/*
 * Frees v and everything only it kept alive. Dead containers form a list
 * threaded through their (no longer needed) capacity field, so any depth is
 * freed in constant stack space and without allocating.
 */
static void destroy(qk_json *v)
{
    qk_json *dead = NULL;
    const bool cache_on = qk__bcache_on();
    for (;;) {
        if (v->type == QK_JSON_ARRAY) {
            qk_json_arr *a = QK_ARR(v);
            for (size_t i = 0; i < a->len; i++)
                release_child(a->items[i], &dead, cache_on);
            if (a->items != a->inl)
                qk_free(a->items);
        } else if (v->type == QK_JSON_OBJECT) {
            qk_json_obj *o = QK_OBJ(v);
            for (uint32_t i = 0; i < o->len; i++) {
                release_child(o->m[i].key, &dead, cache_on);
                release_child(o->m[i].value, &dead, cache_on);
            }
            if (o->m != o->inl)
                qk_free(o->m);
            if (o->index)
                qk_free(o->index);
        }
        node_free_in(v, cache_on);
        if (!dead)
            return;
        v = dead;
        dead = v->type == QK_JSON_ARRAY ? QK_ARR(v)->u.dead_next
                                        : QK_OBJ(v)->u.dead_next;
    }
}

void qk_json_unref(qk_json *v)
{
    if (!v || v->is_static || !release(v))
        return;
    if (v->type == QK_JSON_ARRAY || v->type == QK_JSON_OBJECT)
        destroy(v);
    else
        node_free_in(v, qk__bcache_on());
}

/* ---- inspection -------------------------------------------------------- */

qk_json_type qk_json_typeof(const qk_json *v)
{
    return v ? (qk_json_type)v->type : QK_JSON_NULL;
}

const char *qk_json_type_name(const qk_json *v)
{
    switch (qk_json_typeof(v)) {
    case QK_JSON_NULL:
        return "null";
    case QK_JSON_BOOL:
        return "boolean";
    case QK_JSON_INT:
    case QK_JSON_UINT:
        return "integer";
    case QK_JSON_DOUBLE:
        return "number";
    case QK_JSON_STRING:
        return "string";
    case QK_JSON_ARRAY:
        return "array";
    case QK_JSON_OBJECT:
        return "object";
    }
    return "null";
}

bool qk_json_is_null(const qk_json *v)
{
    return v && v->type == QK_JSON_NULL;
}

bool qk_json_is_bool(const qk_json *v)
{
    return v && v->type == QK_JSON_BOOL;
}

bool qk_json_is_integer(const qk_json *v)
{
    return v && (v->type == QK_JSON_INT || v->type == QK_JSON_UINT);
}

bool qk_json_is_number(const qk_json *v)
{
    return v && (v->type == QK_JSON_INT || v->type == QK_JSON_UINT ||
                 v->type == QK_JSON_DOUBLE);
}

bool qk_json_is_string(const qk_json *v)
{
    return v && v->type == QK_JSON_STRING;
}

bool qk_json_is_array(const qk_json *v)
{
    return v && v->type == QK_JSON_ARRAY;
}

bool qk_json_is_object(const qk_json *v)
{
    return v && v->type == QK_JSON_OBJECT;
}

bool qk_json_get_bool(const qk_json *v)
{
    return v == &qk_json__true_value;
}

/* 2^63 and 2^64 as doubles (exact). */
#define TWO63 9223372036854775808.0
#define TWO64 18446744073709551616.0

/* d as int64 if integral and in range (NaN fails every comparison). */
static bool double_to_i64(double d, int64_t *out)
{
    if (!(d >= -TWO63 && d < TWO63))
        return false;
    int64_t i = (int64_t)d; /* truncates; in range so defined */
    if ((double)i != d)
        return false;
    *out = i;
    return true;
}

static bool double_to_u64(double d, uint64_t *out)
{
    if (!(d >= 0.0 && d < TWO64))
        return false;
    uint64_t u = (uint64_t)d;
    if ((double)u != d)
        return false;
    *out = u;
    return true;
}

int qk_json_get_int64(const qk_json *v, int64_t *out)
{
    switch (qk_json_typeof(v)) {
    case QK_JSON_INT:
        *out = QK_CNUM(v)->v.i;
        return 0;
    case QK_JSON_UINT:
        return QK_ERR_RANGE; /* always above INT64_MAX */
    case QK_JSON_DOUBLE:
        return double_to_i64(QK_CNUM(v)->v.d, out) ? 0 : QK_ERR_RANGE;
    default:
        return QK_ERR_INVAL;
    }
}

int qk_json_get_uint64(const qk_json *v, uint64_t *out)
{
    switch (qk_json_typeof(v)) {
    case QK_JSON_INT:
        if (QK_CNUM(v)->v.i < 0)
            return QK_ERR_RANGE;
        *out = (uint64_t)QK_CNUM(v)->v.i;
        return 0;
    case QK_JSON_UINT:
        *out = QK_CNUM(v)->v.u;
        return 0;
    case QK_JSON_DOUBLE:
        return double_to_u64(QK_CNUM(v)->v.d, out) ? 0 : QK_ERR_RANGE;
    default:
        return QK_ERR_INVAL;
    }
}

int qk_json_get_double(const qk_json *v, double *out)
{
    switch (qk_json_typeof(v)) {
    case QK_JSON_INT: {
        int64_t i = QK_CNUM(v)->v.i;
        double d = (double)i;
        /* (double)i rounds; it is exact iff it converts back to i. */
        if (d >= TWO63 || (int64_t)d != i)
            return QK_ERR_RANGE;
        *out = d;
        return 0;
    }
    case QK_JSON_UINT: {
        uint64_t u = QK_CNUM(v)->v.u;
        double d = (double)u;
        if (d >= TWO64 || (uint64_t)d != u)
            return QK_ERR_RANGE;
        *out = d;
        return 0;
    }
    case QK_JSON_DOUBLE:
        *out = QK_CNUM(v)->v.d;
        return 0;
    default:
        return QK_ERR_INVAL;
    }
}

const char *qk_json_string(const qk_json *v)
{
    return qk_json_is_string(v) ? QK_CSTR(v)->data : NULL;
}

size_t qk_json_string_length(const qk_json *v)
{
    return qk_json_is_string(v) ? QK_CSTR(v)->len : 0;
}

/* ---- arrays ------------------------------------------------------------ */

size_t qk_json_array_size(const qk_json *a)
{
    return qk_json_is_array(a) ? QK_CARR(a)->len : 0;
}

qk_json *qk_json_array_get(const qk_json *a, size_t i)
{
    if (!qk_json_is_array(a) || i >= QK_CARR(a)->len)
        return NULL;
    return QK_CARR(a)->items[i];
}

int qk_json__array_reserve(qk_json *v, size_t n)
{
    qk_json_arr *a = QK_ARR(v);
    if (n <= a->u.cap - a->len)
        return 0;
    if (n > SIZE_MAX / sizeof(qk_json *) - a->len)
        return QK_ERR_NOMEM;
    size_t cap = a->u.cap * 2;
    if (cap < a->len + n)
        cap = a->len + n;
    if (cap > SIZE_MAX / sizeof(qk_json *))
        cap = a->len + n;
    qk_json **items;
    if (a->items == a->inl) {
        items = qk_malloc(cap * sizeof *items);
        if (!items)
            return QK_ERR_NOMEM;
        memcpy(items, a->inl, a->len * sizeof *items);
    } else {
        items = qk_realloc(a->items, cap * sizeof *items);
        if (!items)
            return QK_ERR_NOMEM;
    }
    a->items = items;
    a->u.cap = cap;
    return 0;
}

int qk_json_array_append_take(qk_json *a, qk_json *v)
{
    if (!v)
        return QK_ERR_NOMEM;
    if (!qk_json_is_array(a) || a == v) {
        qk_json_unref(v);
        return QK_ERR_INVAL;
    }
    qk_json_arr *arr = QK_ARR(a);
    if (arr->len == arr->u.cap && qk_json__array_reserve(a, 1) < 0) {
        qk_json_unref(v);
        return QK_ERR_NOMEM;
    }
    arr->items[arr->len++] = v;
    return 0;
}

int qk_json_array_append(qk_json *a, qk_json *v)
{
    if (!v)
        return QK_ERR_INVAL;
    return qk_json_array_append_take(a, qk_json_ref(v));
}

/* ---- objects ----------------------------------------------------------- */

/* A per-process seed (the address of a static under ASLR) so that colliding
 * key sets cannot be prepared in advance. */
static const char hash_seed_anchor;

static uint32_t key_hash(const char *s, size_t n)
{
    uint64_t h = ((uint64_t)(uintptr_t)&hash_seed_anchor * 0x9E3779B97F4A7C15ull) ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static inline bool key_is(const qk_json *k, const char *key, size_t klen)
{
    return QK_CSTR(k)->len == klen && memcmp(QK_CSTR(k)->data, key, klen) == 0;
}

static void index_insert(qk_json_obj *o, uint32_t hash, uint32_t idx)
{
    uint32_t mask = o->index_mask;
    uint32_t i = hash & mask;
    while (o->index[i].idx1)
        i = (i + 1) & mask;
    o->index[i].hash = hash;
    o->index[i].idx1 = idx + 1;
}

/* Refills the index from the entries (its size is unchanged). */
static void index_rebuild(qk_json_obj *o)
{
    memset(o->index, 0, ((size_t)o->index_mask + 1) * sizeof *o->index);
    for (uint32_t i = 0; i < o->len; i++) {
        const qk_json_str *k = QK_CSTR(o->m[i].key);
        index_insert(o, key_hash(k->data, k->len), i);
    }
}

/* Position of key, or -1. */
static long obj_find(const qk_json_obj *o, const char *key, size_t klen)
{
    if (!o->index) {
        for (uint32_t i = 0; i < o->len; i++)
            if (key_is(o->m[i].key, key, klen))
                return (long)i;
        return -1;
    }
    uint32_t hash = key_hash(key, klen);
    uint32_t mask = o->index_mask;
    for (uint32_t i = hash & mask; o->index[i].idx1; i = (i + 1) & mask) {
        uint32_t e = o->index[i].idx1 - 1;
        if (o->index[i].hash == hash && key_is(o->m[e].key, key, klen))
            return (long)e;
    }
    return -1;
}

/* Makes room for n more members, entries and index (load <= 1/2). */
int qk_json__object_reserve(qk_json *v, size_t n)
{
    qk_json_obj *o = QK_OBJ(v);
    if (n > UINT32_MAX / 4 - o->len)
        return QK_ERR_NOMEM;
    size_t need = o->len + n;
    if (need > o->u.cap) {
        size_t cap = o->u.cap * 2;
        if (cap < need)
            cap = need;
        qk_json_member *m;
        if (o->m == o->inl) {
            m = qk_malloc(cap * sizeof *m);
            if (!m)
                return QK_ERR_NOMEM;
            memcpy(m, o->inl, o->len * sizeof *m);
        } else {
            m = qk_realloc(o->m, cap * sizeof *m);
            if (!m)
                return QK_ERR_NOMEM;
        }
        o->m = m;
        o->u.cap = cap;
    }
    if (need > QK_JSON_INDEX_MIN &&
        (!o->index || need * 2 > (size_t)o->index_mask + 1)) {
        size_t slots = o->index ? ((size_t)o->index_mask + 1) * 2 : 32;
        while (slots < need * 2)
            slots *= 2;
        qk_json_slot *idx = qk_calloc(slots, sizeof *idx);
        if (!idx)
            return QK_ERR_NOMEM;
        qk_free(o->index);
        o->index = idx;
        o->index_mask = (uint32_t)(slots - 1);
        index_rebuild(o);
    }
    return 0;
}

void qk_json__object_push_unchecked(qk_json *v, qk_json *key, qk_json *val)
{
    qk_json_obj *o = QK_OBJ(v);
    uint32_t i = o->len++;
    o->m[i].key = key;
    o->m[i].value = val;
    if (o->index)
        index_insert(o, key_hash(QK_STR(key)->data, QK_STR(key)->len), i);
}

int qk_json__object_add_unique_take(qk_json *o, qk_json *key, qk_json *value)
{
    int rc = QK_ERR_INVAL;
    if (!key || !value) {
        rc = QK_ERR_NOMEM;
        goto fail;
    }
    if (!qk_json_is_object(o) || !qk_json_is_string(key) || o == value)
        goto fail;
    qk_json_obj *obj = QK_OBJ(o);
    if (obj_find(obj, QK_STR(key)->data, QK_STR(key)->len) >= 0)
        goto fail;
    if ((obj->len == obj->u.cap || obj->len >= QK_JSON_INDEX_MIN) &&
        qk_json__object_reserve(o, 1) < 0) {
        rc = QK_ERR_NOMEM;
        goto fail;
    }
    qk_json__object_push_unchecked(o, key, value);
    return 0;
fail:
    qk_json_unref(key);
    qk_json_unref(value);
    return rc;
}

size_t qk_json_object_size(const qk_json *o)
{
    return qk_json_is_object(o) ? QK_COBJ(o)->len : 0;
}

qk_json *qk_json_object_get_len(const qk_json *o, const char *key, size_t klen)
{
    if (!qk_json_is_object(o) || !key)
        return NULL;
    long i = obj_find(QK_COBJ(o), key, klen);
    return i < 0 ? NULL : QK_COBJ(o)->m[i].value;
}

qk_json *qk_json_object_get(const qk_json *o, const char *key)
{
    if (!key)
        return NULL;
    return qk_json_object_get_len(o, key, strlen(key));
}

int qk_json_object_set_len_take(qk_json *o, const char *key, size_t klen,
                                qk_json *v)
{
    if (!v)
        return QK_ERR_NOMEM;
    if (!qk_json_is_object(o) || !key || o == v) {
        qk_json_unref(v);
        return QK_ERR_INVAL;
    }
    qk_json_obj *obj = QK_OBJ(o);
    long i = obj_find(obj, key, klen);
    if (i >= 0) {
        qk_json *old = obj->m[i].value;
        obj->m[i].value = v;
        qk_json_unref(old);
        return 0;
    }
    qk_json *k = qk_json_string_new_len(key, klen);
    if (!k || qk_json__object_reserve(o, 1) < 0) {
        qk_json_unref(k);
        qk_json_unref(v);
        return QK_ERR_NOMEM;
    }
    qk_json__object_push_unchecked(o, k, v);
    return 0;
}

int qk_json_object_set_take(qk_json *o, const char *key, qk_json *v)
{
    if (!key) {
        qk_json_unref(v);
        return QK_ERR_INVAL;
    }
    return qk_json_object_set_len_take(o, key, strlen(key), v);
}

int qk_json_object_set(qk_json *o, const char *key, qk_json *v)
{
    if (!v)
        return QK_ERR_INVAL;
    return qk_json_object_set_take(o, key, qk_json_ref(v));
}

int qk_json_object_remove(qk_json *o, const char *key)
{
    if (!qk_json_is_object(o) || !key)
        return QK_ERR_INVAL;
    qk_json_obj *obj = QK_OBJ(o);
    long i = obj_find(obj, key, strlen(key));
    if (i < 0)
        return QK_ERR_NOENT;
    qk_json_member gone = obj->m[i];
    memmove(&obj->m[i], &obj->m[i + 1],
            (obj->len - (size_t)i - 1) * sizeof *obj->m);
    obj->len--;
    if (obj->index)
        index_rebuild(obj); /* same size: cannot fail */
    qk_json_unref(gone.key);
    qk_json_unref(gone.value);
    return 0;
}

const char *qk_json_object_key_at(const qk_json *o, size_t i, size_t *klen)
{
    if (!qk_json_is_object(o) || i >= QK_COBJ(o)->len)
        return NULL;
    const qk_json_str *k = QK_CSTR(QK_COBJ(o)->m[i].key);
    if (klen)
        *klen = k->len;
    return k->data;
}

qk_json *qk_json_object_value_at(const qk_json *o, size_t i)
{
    if (!qk_json_is_object(o) || i >= QK_COBJ(o)->len)
        return NULL;
    return QK_COBJ(o)->m[i].value;
}

/* ---- whole values ------------------------------------------------------ */

static bool is_container(const qk_json *v)
{
    return v->type == QK_JSON_ARRAY || v->type == QK_JSON_OBJECT;
}

static size_t container_len(const qk_json *v)
{
    return v->type == QK_JSON_ARRAY ? QK_CARR(v)->len : QK_COBJ(v)->len;
}

/* Scalar equality; containers only by identity here. */
static bool scalar_equal(const qk_json *a, const qk_json *b)
{
    int64_t i;
    uint64_t u;
    if (a == b)
        return true;
    if (a->type == QK_JSON_DOUBLE && b->type != QK_JSON_DOUBLE) {
        const qk_json *t = a;
        a = b;
        b = t;
    }
    switch (a->type) {
    case QK_JSON_NULL:
    case QK_JSON_BOOL:
        return false; /* singletons: equal only when identical */
    case QK_JSON_INT:
        if (b->type == QK_JSON_INT)
            return QK_CNUM(a)->v.i == QK_CNUM(b)->v.i;
        if (b->type == QK_JSON_DOUBLE)
            return double_to_i64(QK_CNUM(b)->v.d, &i) && i == QK_CNUM(a)->v.i;
        return false; /* UINT is always above INT64_MAX */
    case QK_JSON_UINT:
        if (b->type == QK_JSON_UINT)
            return QK_CNUM(a)->v.u == QK_CNUM(b)->v.u;
        if (b->type == QK_JSON_DOUBLE)
            return double_to_u64(QK_CNUM(b)->v.d, &u) && u == QK_CNUM(a)->v.u;
        return false;
    case QK_JSON_DOUBLE:
        return b->type == QK_JSON_DOUBLE && QK_CNUM(a)->v.d == QK_CNUM(b)->v.d;
    case QK_JSON_STRING:
        return b->type == QK_JSON_STRING &&
               key_is(b, QK_CSTR(a)->data, QK_CSTR(a)->len);
    default:
        return false;
    }
}

/*
 * Explicit stacks for the tree walks (equal, copy): a few frames on the C
 * stack, then the heap, so nesting depth is bounded by memory only.
 */
typedef struct walk_frame {
    const qk_json *a;
    const qk_json *b; /* equal: the other value; copy: the new container */
    size_t i;
} walk_frame;

typedef struct walk_stack {
    walk_frame *f;
    size_t n, cap;
    walk_frame local[32];
} walk_stack;

static void ws_init(walk_stack *s)
{
    s->f = s->local;
    s->n = 0;
    s->cap = sizeof s->local / sizeof s->local[0];
}

static bool ws_push(walk_stack *s, const qk_json *a, const qk_json *b)
{
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        walk_frame *f;
        if (s->f == s->local) {
            f = qk_malloc(cap * sizeof *f);
            if (f)
                memcpy(f, s->local, sizeof s->local);
        } else {
            f = qk_realloc(s->f, cap * sizeof *f);
        }
        if (!f)
            return false;
        s->f = f;
        s->cap = cap;
    }
    s->f[s->n++] = (walk_frame){a, b, 0};
    return true;
}

static void ws_free(walk_stack *s)
{
    if (s->f != s->local)
        qk_free(s->f);
}

/* Shallow test of two containers before descending: kinds and sizes. */
static bool shallow_equal(const qk_json *a, const qk_json *b)
{
    if (a == b)
        return true;
    if (!is_container(a) || !is_container(b))
        return scalar_equal(a, b);
    return a->type == b->type && container_len(a) == container_len(b);
}

bool qk_json_equal(const qk_json *a, const qk_json *b)
{
    if (!a || !b)
        return a == b;
    if (a == b)
        return true;
    if (!shallow_equal(a, b))
        return false;
    if (!is_container(a))
        return true;

    walk_stack s;
    bool eq = true;
    ws_init(&s);
    if (!ws_push(&s, a, b))
        return false;
    while (eq && s.n) {
        walk_frame *f = &s.f[s.n - 1];
        if (f->i == container_len(f->a)) {
            s.n--;
            continue;
        }
        const qk_json *x, *y;
        size_t i = f->i++;
        if (f->a->type == QK_JSON_ARRAY) {
            x = QK_CARR(f->a)->items[i];
            y = QK_CARR(f->b)->items[i];
        } else {
            const qk_json_str *k = QK_CSTR(QK_COBJ(f->a)->m[i].key);
            x = QK_COBJ(f->a)->m[i].value;
            y = qk_json_object_get_len(f->b, k->data, k->len);
            if (!y) {
                eq = false;
                break;
            }
        }
        if (x == y)
            continue;
        if (!shallow_equal(x, y))
            eq = false;
        else if (is_container(x) && !ws_push(&s, x, y))
            eq = false; /* out of memory: documented as unequal */
    }
    ws_free(&s);
    return eq;
}

/* An empty container of v's kind with room for all of v's items. */
static qk_json *container_like(const qk_json *v)
{
    size_t n = container_len(v);
    qk_json *c;
    if (v->type == QK_JSON_ARRAY) {
        c = qk_json_array_new();
        if (c && qk_json__array_reserve(c, n) < 0) {
            qk_json_unref(c);
            return NULL;
        }
    } else {
        c = qk_json_object_new();
        if (c && qk_json__object_reserve(c, n) < 0) {
            qk_json_unref(c);
            return NULL;
        }
    }
    return c;
}

/*
 * Containers are copied; strings and numbers never change once shared, so
 * the copy shares them (the result is still independent: nothing in it can
 * be changed through the original).
 */
qk_json *qk_json_copy(const qk_json *v)
{
    if (!v)
        return NULL;
    if (!is_container(v))
        return qk_json_ref((qk_json *)v);
    qk_json *root = container_like(v);
    if (!root)
        return NULL;

    walk_stack s;
    ws_init(&s);
    ws_push(&s, v, root); /* first push uses the local frames */
    while (s.n) {
        walk_frame *f = &s.f[s.n - 1];
        if (f->i == container_len(f->a)) {
            s.n--;
            continue;
        }
        size_t i = f->i++;
        qk_json *dst = (qk_json *)f->b;
        const qk_json *child = f->a->type == QK_JSON_ARRAY
                                   ? QK_CARR(f->a)->items[i]
                                   : QK_COBJ(f->a)->m[i].value;
        qk_json *nc;
        if (is_container(child)) {
            nc = container_like(child);
            if (!nc)
                goto oom;
        } else {
            nc = qk_json_ref((qk_json *)child);
        }
        /* Room was reserved: these cannot fail. */
        if (dst->type == QK_JSON_ARRAY)
            QK_ARR(dst)->items[QK_ARR(dst)->len++] = nc;
        else
            qk_json__object_push_unchecked(
                dst, qk_json_ref(QK_COBJ(f->a)->m[i].key), nc);
        if (is_container(child) && !ws_push(&s, child, nc))
            goto oom;
    }
    ws_free(&s);
    return root;
oom:
    ws_free(&s);
    qk_json_unref(root);
    return NULL;
}
