/* SPDX-License-Identifier: MIT */
/*
 * A small cache of short string values, so that a parser hands out one
 * shared (immutable, refcounted) value for the keys and names a message
 * repeats ("name", "type", "arg-type", ...) instead of allocating each.
 */
#ifndef QK_STRCACHE_INT_H
#define QK_STRCACHE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qmpkit/json.h"

#define QK_STRCACHE_MIN_SLOTS 64
#define QK_STRCACHE_MAX_SLOTS 2048 /* 64 KiB */
#define QK_STRCACHE_MAXLEN 32

/*
 * The table is allocated on first use and starts small, so an idle or
 * lightly used parser costs little; it grows when strings keep missing.
 *
 * A slot holds 1 + credits references to its value: a hit hands out one
 * of the credits, a plain decrement, instead of an atomic increment of the
 * value's count (the cache takes credits in batches).
 */
typedef struct qk_strcache_slot {
    qk_json *v;
    uint64_t w0, w1;  /* the key's words (see qk_strcache_key) */
    uint32_t len;     /* v's length, kept here to spare a load from v */
    uint32_t credits; /* references held beyond the cache's own */
} qk_strcache_slot;

typedef struct qk_strcache {
    qk_strcache_slot *slot;
    uint32_t mask;   /* slots - 1 */
    uint32_t misses; /* since the table last grew */
} qk_strcache;

/*
 * A key is its length and two words: the first 8 bytes and the last 8
 * (overlapping, or zero-padded when shorter). Up to 16 bytes the words are
 * the whole string, so equal keys mean equal strings.
 */
static inline void qk_strcache_key(const char *s, size_t len, size_t avail,
                                   uint64_t *w0, uint64_t *w1)
{
    if (len >= 8) {
        memcpy(w0, s, 8);
        memcpy(w1, s + len - 8, 8);
        return;
    }
    uint64_t x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (avail >= 8) {
        memcpy(&x, s, 8);
        x &= ~0ull >> (63 - 8 * len) >> 1; /* the low len bytes */
    } else
#endif
    {
        (void)avail;
        for (size_t i = 0; i < len; i++)
            x |= (uint64_t)(uint8_t)s[i] << (8 * i);
    }
    *w0 = x;
    *w1 = 0;
}

static inline uint32_t qk_strcache_hash(uint64_t w0, uint64_t w1, size_t len)
{
    /* One multiplication; its high half mixes all the input bits. */
    uint64_t h = (w0 ^ (w1 << 29 | w1 >> 35) ^ len) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

/* Everything but a hit with credits left (strcache.c). */
qk_json *qk_strcache_get_slow(qk_strcache *c, const char *s, size_t len,
                              size_t avail);
/* The same once the slot is known: a miss, or a hit out of credits. */
qk_json *qk_strcache_fill(qk_strcache *c, qk_strcache_slot *sl, const char *s,
                          size_t len, uint64_t w0, uint64_t w1);

/* A new reference to a string value holding exactly these bytes (plain
 * text: no escapes to decode); shared when it is short. avail >= len is how
 * many bytes may be read at s (reading a little past the string is
 * faster). NULL on OOM. */
static inline qk_json *qk_strcache_get(qk_strcache *c, const char *s,
                                       size_t len, size_t avail)
{
    if (len <= QK_STRCACHE_MAXLEN && c->slot) {
        uint64_t w0, w1;
        qk_strcache_key(s, len, avail, &w0, &w1);
        qk_strcache_slot *sl =
            &c->slot[qk_strcache_hash(w0, w1, len) & c->mask];
        if (sl->v && sl->w0 == w0 && sl->w1 == w1 && sl->len == len &&
            sl->credits && (len <= 16 || !memcmp(
                                             qk_json_string(sl->v), s, len))) {
            sl->credits--;
            return sl->v;
        }
        return qk_strcache_fill(c, sl, s, len, w0, w1);
    }
    return qk_strcache_get_slow(c, s, len, avail);
}

/* Sizes an empty cache for a text of this many bytes (a one-shot parse
 * knows it), so that it need not grow while the text is read. */
void qk_strcache_size_for(qk_strcache *c, size_t bytes);
/* Drops every cached value. */
void qk_strcache_clear(qk_strcache *c);

#endif
