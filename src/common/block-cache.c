/* SPDX-License-Identifier: MIT */
/* The per-thread small-block cache: see block-cache-int.h. */
#include <pthread.h>
#include <stdlib.h>

#include "common/block-cache-int.h"

#if QK_BLOCK_CACHE
#if defined(__GNUC__) || defined(__clang__)
_Thread_local qk_block_cache qk__bcache
    __attribute__((tls_model("initial-exec")));
#else
_Thread_local qk_block_cache qk__bcache;
#endif

static pthread_key_t bcache_key;
static pthread_once_t bcache_once = PTHREAD_ONCE_INIT;
static bool bcache_key_ok;

/* At thread exit. The blocks came from the default malloc. */
static void bcache_flush(void *arg)
{
    qk_block_cache *c = arg;
    for (int i = 0; i < QK_BLOCK_CLASSES; i++) {
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

bool qk__bcache_register(void)
{
    pthread_once(&bcache_once, bcache_key_init);
    if (bcache_key_ok && pthread_setspecific(bcache_key, &qk__bcache) == 0) {
        qk__bcache.state = 1;
        return true;
    }
    qk__bcache.state = -1;
    return false;
}
#endif
