/* SPDX-License-Identifier: MIT */
/* The parser's string cache (see strcache-int.h): direct-mapped, a miss
 * replaces the slot. */
#include <string.h>

#include "common/alloc-int.h"
#include "json/strcache-int.h"
#include "json/value-layout-int.h"

/*
 * A key is its length and two words: the first 8 bytes and the last 8
 * (overlapping, or zero-padded when shorter). Up to 16 bytes the words are
 * the whole string, so equal keys mean equal strings.
 */
static inline void key_words(const char *s, size_t len, size_t avail,
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
        x &= len ? ~0ull >> (64 - 8 * len) : 0;
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

static inline uint32_t slot_of(uint64_t w0, uint64_t w1, size_t len)
{
    uint64_t h = (w0 * 0x9E3779B97F4A7C15ull) ^ (w1 * 0xC2B2AE3D27D4EB4Full) ^
                 len;
    return (uint32_t)(h >> 32 ^ h);
}

/* Moves to a table of `slots` entries; on failure keeps the old one. */
static void resize(qk_strcache *c, uint32_t slots)
{
    qk_strcache_slot *t = qk_calloc(slots, sizeof *t);
    if (!t)
        return;
    if (c->slot) {
        for (uint32_t i = 0; i <= c->mask; i++) {
            qk_strcache_slot *o = &c->slot[i];
            if (!o->v)
                continue;
            qk_strcache_slot *dst =
                &t[slot_of(o->w0, o->w1, QK_STR(o->v)->len) & (slots - 1)];
            qk_json_unref(dst->v); /* a collision: keep the later one */
            *dst = *o;
        }
        qk_free(c->slot);
    }
    c->slot = t;
    c->mask = slots - 1;
    c->misses = 0;
}

qk_json *qk_strcache_get(qk_strcache *c, const char *s, size_t len,
                         size_t avail)
{
    if (len > QK_STRCACHE_MAXLEN)
        return qk_json_string_new_len(s, len);
    if (!c->slot) {
        resize(c, QK_STRCACHE_MIN_SLOTS);
        if (!c->slot)
            return qk_json_string_new_len(s, len);
    }
    uint64_t w0, w1;
    key_words(s, len, avail, &w0, &w1);
    qk_strcache_slot *sl = &c->slot[slot_of(w0, w1, len) & c->mask];
    if (sl->v && sl->w0 == w0 && sl->w1 == w1 && QK_STR(sl->v)->len == len &&
        (len <= 16 || !memcmp(QK_STR(sl->v)->data, s, len)))
        return qk_json_ref(sl->v);
    qk_json *n = qk_json_string_new_len(s, len);
    if (!n)
        return NULL;
    qk_json_unref(sl->v);
    *sl = (qk_strcache_slot){qk_json_ref(n), w0, w1};
    if (++c->misses > 4 * (c->mask + 1) && c->mask + 1 < QK_STRCACHE_MAX_SLOTS)
        resize(c, 2 * (c->mask + 1));
    return n;
}

void qk_strcache_clear(qk_strcache *c)
{
    if (!c->slot)
        return;
    for (uint32_t i = 0; i <= c->mask; i++)
        if (c->slot[i].v)
            qk_json_unref(c->slot[i].v);
    qk_free(c->slot);
    *c = (qk_strcache){0};
}
