/* SPDX-License-Identifier: MIT */
/*
 * QEMU's QDict iteration order. QEMU checks a request's members in the
 * order its hash table yields them, and the first problem wins; so to give
 * the same error as QEMU for a request with several bad members we visit
 * them in that order: bucket (tdb_hash mod 512) ascending, and inside a
 * bucket the most recently inserted key first (checklist 5.1).
 */
#include <string.h>

#include "proto/session-int.h"

#define QDICT_BUCKETS 512u

unsigned qk__qdict_bucket(const char *key, size_t len)
{
    /* QEMU keys are C strings: they end at the first NUL */
    size_t n = strnlen(key, len);
    uint32_t h = 0x238F13AFu * (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        h += (uint32_t)(unsigned char)key[i] << (i * 5 % 24);
    h = 1103515243u * h + 12345u;
    return h % QDICT_BUCKETS;
}

void qk__qdict_order(const qk_json *o, size_t *order, size_t n)
{
    unsigned buckets[64];
    unsigned *b = buckets;
    unsigned *heap = NULL;
    if (n > 64) {
        heap = qk_malloc(n * sizeof *heap);
        b = heap;
    }
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *k = qk_json_object_key_at(o, i, &klen);
        if (b)
            b[i] = qk__qdict_bucket(k, klen);
        order[i] = i;
    }
    if (!b)
        return; /* out of memory: insertion order, still a valid check */
    /* insertion sort: requests have a handful of members */
    for (size_t i = 1; i < n; i++) {
        size_t v = order[i];
        size_t j = i;
        /* same bucket: the later insertion comes first */
        while (j > 0 && (b[order[j - 1]] > b[v] ||
                         (b[order[j - 1]] == b[v] && order[j - 1] < v))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    qk_free(heap);
}
