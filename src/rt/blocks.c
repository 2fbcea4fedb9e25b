/* SPDX-License-Identifier: MIT */
/*
 * Small blocks of generated types (structs, list nodes, strings), recycled
 * through a per-thread cache. Decoding a reply into generated structs and
 * freeing them is the common pattern: thousands of small blocks, all freed
 * at once, which glibc's malloc handles poorly once its own small tcache
 * is full. qk_rt_zalloc() and qk_rt_strndup() take from the cache, the
 * generated qapi_free_*() give back through qk_rt_free().
 *
 * A freed block's class comes from malloc_usable_size(), so blocks from
 * anywhere (a handler's strdup, say) may enter: class c holds blocks of at
 * least (c + 1) * 16 usable bytes. As in value.c's node cache, the cache
 * works only while the default allocator hooks are in place (hooks are set
 * before use, so every block is then the default malloc's), holds at most
 * CACHE_BYTES, is flushed when its thread exits, and is left out of
 * sanitizer builds and where malloc_usable_size() is unknown.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc-int.h"
#include "qmpkit/rt.h"

#if defined(__SANITIZE_ADDRESS__)
#define BLOCK_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define BLOCK_CACHE 0
#endif
#endif
#if !defined(BLOCK_CACHE) && !defined(__GLIBC__)
#define BLOCK_CACHE 0
#endif
#ifndef BLOCK_CACHE
#define BLOCK_CACHE 1
#endif

#if BLOCK_CACHE
#include <malloc.h>

#define CLASSES 8 /* 16, 32, ... 128 bytes */
#define CACHE_BYTES ((size_t)2 << 20)

typedef struct block_cache {
    void *head[CLASSES];
    size_t bytes;
    int state; /* 0: unregistered, 1: registered, -1: unusable */
} block_cache;

#if defined(__GNUC__) || defined(__clang__)
static _Thread_local block_cache bcache __attribute__((tls_model("initial-exec")));
#else
static _Thread_local block_cache bcache;
#endif
static pthread_key_t bcache_key;
static pthread_once_t bcache_once = PTHREAD_ONCE_INIT;
static bool bcache_key_ok;

/* At thread exit. The blocks came from the default malloc. */
static void bcache_flush(void *arg)
{
    block_cache *c = arg;
    for (int i = 0; i < CLASSES; i++) {
        while (c->head[i]) {
            void *p = c->head[i];
            c->head[i] = *(void **)p;
            free(p);
        }
    }
    c->bytes = 0;
    c->state = -1; /* late frees on this thread go straight to free() */
}

static void bcache_key_init(void)
{
    bcache_key_ok = pthread_key_create(&bcache_key, bcache_flush) == 0;
}

static bool bcache_register(void)
{
    pthread_once(&bcache_once, bcache_key_init);
    if (bcache_key_ok && pthread_setspecific(bcache_key, &bcache) == 0) {
        bcache.state = 1;
        return true;
    }
    bcache.state = -1;
    return false;
}
#endif

/* size bytes, not zeroed. */
static inline void *block_alloc(size_t size)
{
#if BLOCK_CACHE
    if (size - 1 < CLASSES * 16 && qk_alloc_is_default()) {
        unsigned c = (unsigned)((size + 15) >> 4) - 1;
        void *p = bcache.head[c];
        if (p) {
            bcache.head[c] = *(void **)p;
            bcache.bytes -= (c + 1) * 16;
            return p;
        }
        /* the whole class size, so that the block comes back to this
         * class: malloc(20) has 24 usable bytes, too few for class 32 */
        return qk_malloc((c + 1) * 16);
    }
#endif
    return qk_malloc(size ? size : 1);
}

void qk_rt_free(void *p)
{
#if BLOCK_CACHE
    if (p && bcache.state >= 0 && qk_alloc_is_default() &&
        (bcache.state || bcache_register())) {
        size_t u = malloc_usable_size(p);
        if (u >= 16 && u < (CLASSES + 1) * 16) {
            unsigned c = (unsigned)(u >> 4) - 1;
            if (bcache.bytes + (c + 1) * 16 <= CACHE_BYTES) {
                *(void **)p = bcache.head[c];
                bcache.head[c] = p;
                bcache.bytes += (c + 1) * 16;
                return;
            }
        }
    }
#endif
    qk_free(p);
}

void *qk_rt_zalloc(size_t size)
{
    void *p = block_alloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

char *qk_rt_strndup(const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *d = block_alloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = 0;
    }
    return d;
}

char *qk_rt_strdup(const char *s)
{
    return s ? qk_rt_strndup(s, strlen(s)) : NULL;
}
