/* SPDX-License-Identifier: MIT */
/*
 * A per-thread cache of small blocks (16 to 128 bytes, one free list per
 * 16-byte class, at most QK_BLOCK_CACHE_BYTES), shared by JSON values
 * (src/json/value.c) and generated types (src/rt/blocks.c). Parsing or
 * decoding a reply and freeing it is the common pattern, and the general
 * allocator handles thousands of small blocks freed at once poorly (glibc
 * consolidates them at the next large request).
 *
 * Only blocks from the default allocator may enter, and only while the
 * default allocator hooks are in place (hooks are set before use), so a
 * caller's allocator sees every block. The cache is flushed when its
 * thread exits. Sanitizer builds leave it out so that use-after-free stays
 * visible. The fast paths are inline: values are made and freed by the
 * million.
 */
#ifndef QK_BLOCK_CACHE_INT_H
#define QK_BLOCK_CACHE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/alloc-int.h"

#if defined(__SANITIZE_ADDRESS__)
#define QK_BLOCK_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define QK_BLOCK_CACHE 0
#endif
#endif
#ifndef QK_BLOCK_CACHE
#define QK_BLOCK_CACHE 1
#endif

#define QK_BLOCK_CLASSES 8 /* 16, 32, ... 128 bytes */
#define QK_BLOCK_CACHE_BYTES ((size_t)2 << 20)

#if QK_BLOCK_CACHE
typedef struct qk_block_cache {
    void *head[QK_BLOCK_CLASSES];
    size_t bytes;
    int state; /* 0: unregistered, 1: registered, -1: unusable */
} qk_block_cache;

/* initial-exec: a plain %fs-relative access even in the shared library
 * (the cache is small enough for glibc's static TLS reserve on dlopen). */
#if defined(__GNUC__) || defined(__clang__)
extern _Thread_local qk_block_cache qk__bcache
    __attribute__((tls_model("initial-exec")));
#else
extern _Thread_local qk_block_cache qk__bcache;
#endif

/* Arranges the flush at thread exit; false if the cache cannot be used
 * on this thread. */
bool qk__bcache_register(void);
#endif

/* The class (1-based) for a block of size bytes, or 0 when too large. */
static inline unsigned qk__block_class(size_t size)
{
    return size - 1 < QK_BLOCK_CLASSES * 16 ? (unsigned)((size + 15) >> 4) : 0;
}

/* A block of class c (1-based) from this thread's cache, or NULL. Only
 * while the default allocator is in place. */
static inline void *qk__bcache_take(unsigned c)
{
#if QK_BLOCK_CACHE
    void *p = qk__bcache.head[c - 1];
    if (p) {
        qk__bcache.head[c - 1] = *(void **)p;
        qk__bcache.bytes -= c * 16;
    }
    return p;
#else
    (void)c;
    return NULL;
#endif
}

/* Whether freed blocks may enter this thread's cache now. */
static inline bool qk__bcache_on(void)
{
#if QK_BLOCK_CACHE
    return qk__bcache.state >= 0 && qk_alloc_is_default() &&
           (qk__bcache.state || qk__bcache_register());
#else
    return false;
#endif
}

/* Keeps p, a default-malloc block of class c (1-based) or larger, if the
 * cache has room (qk__bcache_on() must hold); false: the caller frees it. */
static inline bool qk__bcache_keep(void *p, unsigned c)
{
#if QK_BLOCK_CACHE
    if (qk__bcache.bytes + c * 16 > QK_BLOCK_CACHE_BYTES)
        return false;
    *(void **)p = qk__bcache.head[c - 1];
    qk__bcache.head[c - 1] = p;
    qk__bcache.bytes += c * 16;
    return true;
#else
    (void)p, (void)c;
    return false;
#endif
}

#endif
