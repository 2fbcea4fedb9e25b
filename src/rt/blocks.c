/* SPDX-License-Identifier: MIT */
/*
 * Small blocks of generated types (structs, list nodes, strings), recycled
 * through the per-thread small-block cache that JSON values use too
 * (common/block-cache-int.h). Decoding a reply into generated structs and
 * freeing them is the common pattern: thousands of small blocks, all freed
 * at once. qk_rt_zalloc() and qk_rt_strndup() take from the cache, the
 * generated qapi_free_*() give back through qk_rt_free().
 *
 * A freed block's class comes from malloc_usable_size(), so blocks from
 * anywhere (a handler's strdup, say) may enter: class c holds blocks of at
 * least c * 16 usable bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc-int.h"
#include "common/block-cache-int.h"
#include "qmpkit/rt.h"

/* malloc_usable_size() tells a freed block's class; without it (not
 * glibc) blocks are not cached here. */
#if QK_BLOCK_CACHE && defined(__GLIBC__)
#define RT_CACHE 1
#include <malloc.h>
#else
#define RT_CACHE 0
#endif

/* size bytes, not zeroed. */
static inline void *block_alloc(size_t size)
{
    unsigned c = RT_CACHE ? qk__block_class(size) : 0;
    if (c && qk_alloc_is_default()) {
        void *p = qk__bcache_take(c);
        /* else the whole class size, so that the block comes back to this
         * class: malloc(20) has 24 usable bytes, too few for class 32 */
        return p ? p : qk_malloc(c * 16);
    }
    return qk_malloc(size ? size : 1);
}

void qk_rt_free(void *p)
{
#if RT_CACHE
    if (p && qk__bcache_on()) {
        size_t u = malloc_usable_size(p);
        if (u >= 16 && u < (QK_BLOCK_CLASSES + 1) * 16 &&
            qk__bcache_keep(p, (unsigned)(u >> 4)))
            return;
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
    char *d = len < SIZE_MAX ? block_alloc(len + 1) : NULL;
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
