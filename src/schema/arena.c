/* SPDX-License-Identifier: MIT */
/*
 * Memory for the schema front end: bump arenas owned by the context (the
 * model's, scratch, the parsed values', the parse's), plus the small
 * containers built on them (pointer vectors, strings, a string-keyed hash
 * map) and a few heap-backed lists. Allocation failure unwinds to the
 * public entry point with QK_ERR_NOMEM; the context still owns everything,
 * so nothing leaks.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc-int.h"
#include "schema/schema-int.h"

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

/* Small chunks: the values arena frees chunks as the model grows, and the
 * model's chunks then fit those holes exactly; the last, partly used
 * chunk of each arena wastes little. 64 KiB chunks cost about 0.2 MB more
 * peak RSS on QEMU's schema, with no measurable gain in time. */
#define CHUNK_SIZE (16 * 1024)

void qs_oom(qs *s)
{
    if (s->jb_set)
        longjmp(s->jb, QK_ERR_NOMEM);
    abort(); /* unreachable: every entry point sets the jump buffer */
}

/* With ORDERED, a big block goes on top too, so chunks stay in allocation
 * order (the values arena frees its oldest chunks first). TEXT (strings)
 * needs no alignment; anything else gets 8 bytes, nothing here needs more. */
static void *arena_alloc(qs *s, arena_chunk **head, size_t n, bool ordered,
                         bool text)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / 2)
        qs_oom(s);
    arena_chunk *c = *head;
    size_t off = 0;
    if (c)
        off = text ? c->used : (c->used + 7) & ~(size_t)7;
    if (!c || off > c->cap || c->cap - off < n) {
        size_t cap = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
        if (cap > SIZE_MAX - sizeof(*c))
            qs_oom(s);
        arena_chunk *nc = qk_malloc(sizeof(*nc) + cap);
        if (!nc)
            qs_oom(s);
        nc->used = 0;
        nc->cap = cap;
        /* chunks are zeroed once, so allocations come zeroed */
        memset(nc->data, 0, cap);
        if (cap == n && c && !ordered) {
            /* big block: keep the current chunk on top for small ones */
            nc->next = c->next;
            c->next = nc;
            nc->used = n;
            return nc->data;
        }
        nc->next = c;
        *head = c = nc;
        off = 0;
    }
    c->used = off + n;
    return (char *)c->data + off;
}

void *qs_alloc(qs *s, size_t n)
{
    return arena_alloc(s, &s->arena, n, false, false);
}

void *qs_talloc(qs *s, size_t n)
{
    return arena_alloc(s, &s->scratch, n, false, false);
}

void *qs_valloc(qs *s, size_t n)
{
    return arena_alloc(s, &s->vals, n, true, false);
}

char *qs_alloc_text(qs *s, size_t n)
{
    return arena_alloc(s, &s->arena, n, false, true);
}

void *qs_palloc(qs *s, size_t n)
{
    return arena_alloc(s, &s->parse, n, false, false);
}

arena_chunk *qs_vals_mark(qs *s)
{
    return s->vals;
}

static void chunks_free(arena_chunk *c)
{
    while (c) {
        arena_chunk *n = c->next;
        qk_free(c);
        c = n;
    }
}

void qs_vals_release_before(arena_chunk *mark)
{
    if (!mark)
        return;
    chunks_free(mark->next);
    mark->next = NULL;
}

void qs_vals_free(qs *s)
{
    chunks_free(s->vals);
    s->vals = NULL;
    chunks_free(s->parse);
    s->parse = NULL;
}

void qs_arena_free(qs *s)
{
    hmap_free(&s->strings);
    hmap_free(&s->entities);
    hmap_free(&s->included);
    hmap_free(&s->feature_dict);
    hmap_free(&s->module_dict);
    vec_hfree(&s->exprs);
    vec_hfree(&s->docs);
    doc_parse_done(s);
    for (size_t i = 0; i < s->modules.n; i++)
        vec_hfree(&((module *)s->modules.v[i])->entities);
    chunks_free(s->arena);
    chunks_free(s->scratch);
    qs_vals_free(s);
    s->arena = s->scratch = NULL;
}

void qs_scratch_reset(qs *s)
{
    arena_chunk *c = s->scratch;
    if (!c)
        return;
    chunks_free(c->next);
    c->next = NULL;
    memset(c->data, 0, c->used); /* keep the zeroed-chunk invariant */
    c->used = 0;
}

char *qs_strndup(qs *s, const char *p, size_t n)
{
    if (n == SIZE_MAX)
        qs_oom(s);
    char *r = qs_alloc_text(s, n + 1);
    memcpy(r, p, n);
    r[n] = 0;
    return r;
}

char *qs_strdup(qs *s, const char *p)
{
    return qs_strndup(s, p, strlen(p));
}

static void *text_alloc(qs *s, size_t n)
{
    return qs_alloc_text(s, n);
}

static char *vformat(qs *s, const char *fmt, va_list ap,
                     void *(*alloc)(qs *, size_t))
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        qs_oom(s);
    char *r = alloc(s, (size_t)n + 1);
    vsnprintf(r, (size_t)n + 1, fmt, ap);
    return r;
}

char *qs_printf(qs *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *r = vformat(s, fmt, ap, text_alloc);
    va_end(ap);
    return r;
}

char *qs_tprintf(qs *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *r = vformat(s, fmt, ap, qs_talloc);
    va_end(ap);
    return r;
}

static char *cat(qs *s, void *(*alloc)(qs *, size_t), const char *a,
                 const char *b, const char *c, const char *d)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c), ld = strlen(d);
    if (la > SIZE_MAX / 4 || lb > SIZE_MAX / 4 || lc > SIZE_MAX / 4 ||
        ld > SIZE_MAX / 4)
        qs_oom(s);
    char *r = alloc(s, la + lb + lc + ld + 1);
    memcpy(r, a, la);
    memcpy(r + la, b, lb);
    memcpy(r + la + lb, c, lc);
    memcpy(r + la + lb + lc, d, ld + 1);
    return r;
}

char *qs_cat(qs *s, const char *a, const char *b, const char *c,
             const char *d)
{
    return cat(s, text_alloc, a, b, c, d);
}

char *qs_tcat(qs *s, const char *a, const char *b, const char *c,
              const char *d)
{
    return cat(s, qs_talloc, a, b, c, d);
}

char *qs_tstrdup(qs *s, const char *p)
{
    size_t n = strlen(p);
    char *r = qs_talloc(s, n + 1);
    memcpy(r, p, n + 1);
    return r;
}

static void vec_push_in(qs *s, vec *a, void *p, void *(*alloc)(qs *, size_t))
{
    if (a->n == a->cap) {
        if (a->cap >= UINT32_MAX / 2)
            qs_oom(s);
        uint32_t cap = a->cap ? a->cap * 2 : 4;
        void **nv = alloc(s, cap * sizeof(void *));
        if (a->n)
            memcpy(nv, a->v, a->n * sizeof(void *));
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = p;
}

void vec_push(qs *s, vec *a, void *p)
{
    vec_push_in(s, a, p, qs_alloc);
}

void vec_tpush(qs *s, vec *a, void *p)
{
    vec_push_in(s, a, p, qs_talloc);
}

void vec_hpush(qs *s, vec *a, void *p)
{
    if (a->n == a->cap) {
        if (a->cap >= UINT32_MAX / 2)
            qs_oom(s);
        uint32_t cap = a->cap ? a->cap * 2 : 16;
        void **nv = qk_realloc(a->v, cap * sizeof(void *));
        if (!nv)
            qs_oom(s);
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = p;
}

void vec_hfree(vec *a)
{
    qk_free(a->v);
    *a = (vec){0};
}

void vec_compact(qs *s, vec *a)
{
    if (!a->n) {
        *a = (vec){0};
        return;
    }
    void **nv = qs_alloc(s, a->n * sizeof(void *));
    memcpy(nv, a->v, a->n * sizeof(void *));
    a->v = nv;
    a->cap = a->n;
}

void vec_reserve(qs *s, vec *a, size_t n)
{
    if (a->cap - a->n >= n)
        return;
    if (n >= UINT32_MAX / 2 - a->n)
        qs_oom(s);
    void **nv = qs_alloc(s, (a->n + n) * sizeof(void *));
    if (a->n)
        memcpy(nv, a->v, a->n * sizeof(void *));
    a->v = nv;
    a->cap = a->n + (uint32_t)n;
}

void sb_add(qs *s, sbuf *b, const char *p, size_t n)
{
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap - b->len <= n)
            cap *= 2;
        char *np = qs_alloc(s, cap);
        if (b->len)
            memcpy(np, b->p, b->len);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void sb_adds(qs *s, sbuf *b, const char *p)
{
    sb_add(s, b, p, strlen(p));
}

void sb_printf(qs *s, sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *r = vformat(s, fmt, ap, qs_talloc);
    va_end(ap);
    sb_adds(s, b, r);
}

/* ---- hash map: open addressing ---- */

/* Eight bytes at a time, each word folded in with a multiply, then the
 * bits mixed down (murmur3's finaliser) so that the low ones, which pick
 * the slot, depend on all of them. FNV-1a's multiply per byte made the
 * hashing of the parse's 60,000 string tokens a chain of dependent
 * multiplies. */
static size_t hash_mem(const char *k, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    for (; n >= 8; k += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, k, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) /* the last 0 to 7 bytes */
        w |= (uint64_t)(unsigned char)k[i] << (8 * i);
    h ^= w;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return (size_t)h;
}

static size_t hash_str(const char *k)
{
    return hash_mem(k, strlen(k));
}

/* The slot of a key that is not NUL-terminated (no copy needed), or the
 * free slot that ends its chain. */
static hmap_slot *slot_n(const hmap *m, const char *key, size_t n)
{
    size_t i = hash_mem(key, n) & (m->cap - 1);
    for (;;) {
        const char *k = m->slots[i].key;
        if (!k || ((!n || k[0] == key[0]) && !strncmp(k, key, n) && !k[n]))
            return &m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
}

void *hmap_get_n(const hmap *m, const char *key, size_t n)
{
    return m->cap ? slot_n(m, key, n)->val : NULL;
}

void *hmap_get(const hmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->slots[i].key) {
        if (m->slots[i].key[0] == key[0] && !strcmp(m->slots[i].key, key))
            return m->slots[i].val;
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static void hmap_insert(hmap_slot *slots, size_t cap, const char *key,
                        void *val)
{
    size_t i = hash_str(key) & (cap - 1);
    while (slots[i].key) {
        if (!strcmp(slots[i].key, key)) {
            slots[i].val = val;
            return;
        }
        i = (i + 1) & (cap - 1);
    }
    slots[i].key = key;
    slots[i].val = val;
}

void hmap_free(hmap *m)
{
    if (m->heap)
        qk_free(m->slots);
    m->slots = NULL;
    m->n = m->cap = 0;
}

static void hmap_grow(qs *s, hmap *m, uint32_t cap)
{
    hmap_slot *ns;
    if (m->heap) {
        /* long-lived maps: the old table is freed, not left behind */
        ns = qk_calloc(cap, sizeof(*ns));
        if (!ns)
            qs_oom(s);
    } else if (m->tmp) {
        ns = qs_talloc(s, (size_t)cap * sizeof(*ns));
    } else {
        ns = qs_alloc(s, (size_t)cap * sizeof(*ns));
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            hmap_insert(ns, cap, m->slots[i].key, m->slots[i].val);
    if (m->heap)
        qk_free(m->slots);
    m->slots = ns;
    m->cap = cap;
}

/* Tables are at most three quarters full: linear probing stays short
 * with hashed names, and the tables are a good part of the memory. */
static bool too_full(size_t n, size_t cap)
{
    return (n + 1) * 4 > cap * 3;
}

void hmap_reserve(qs *s, hmap *m, size_t n)
{
    if (n >= UINT32_MAX / 4)
        qs_oom(s);
    uint32_t cap = m->cap ? m->cap : 64;
    while (too_full(n, cap))
        cap *= 2;
    if (cap != m->cap)
        hmap_grow(s, m, cap);
}

static void grow_for_one_more(qs *s, hmap *m)
{
    if (too_full(m->n, m->cap)) {
        if (m->cap >= UINT32_MAX / 2)
            qs_oom(s);
        hmap_grow(s, m, m->cap ? m->cap * 2 : 64);
    }
}

hmap_slot *hmap_slot_n(qs *s, hmap *m, const char *key, size_t n)
{
    grow_for_one_more(s, m);
    return slot_n(m, key, n);
}

void hmap_put(qs *s, hmap *m, const char *key, void *val)
{
    grow_for_one_more(s, m);
    /* one probe: the key's slot, or the free one that ends its chain */
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->slots[i].key && strcmp(m->slots[i].key, key))
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].key)
        m->n++;
    m->slots[i].key = key;
    m->slots[i].val = val;
}
