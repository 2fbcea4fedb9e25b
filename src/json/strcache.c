/* SPDX-License-Identifier: MIT */
/* The parser's string cache (see strcache-int.h): direct-mapped, a miss
 * replaces the slot. */
#include <string.h>

#include "common/alloc-int.h"
#include "json/strcache-int.h"
#include "json/value-int.h"
#include "json/value-layout-int.h"

/* References a slot takes at a time (one atomic addition per batch). */
#define CREDITS 4096u

/* Drops the slot's references to its value. */
static void slot_drop(qk_strcache_slot *sl)
{
    if (sl->v)
        qk_json__unref_n(sl->v, sl->credits + 1);
    sl->v = NULL;
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
                &t[qk_strcache_hash(o->w0, o->w1, o->len) & (slots - 1)];
            slot_drop(dst); /* a collision: keep the later one */
            *dst = *o;
        }
        qk_free(c->slot);
    }
    c->slot = t;
    c->mask = slots - 1;
    c->misses = 0;
}

qk_json *qk_strcache_get_slow(qk_strcache *c, const char *s, size_t len,
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
    qk_strcache_key(s, len, avail, &w0, &w1);
    return qk_strcache_fill(
        c, &c->slot[qk_strcache_hash(w0, w1, len) & c->mask], s, len, w0, w1);
}

qk_json *qk_strcache_fill(qk_strcache *c, qk_strcache_slot *sl, const char *s,
                          size_t len, uint64_t w0, uint64_t w1)
{
    if (sl->v && sl->w0 == w0 && sl->w1 == w1 && sl->len == len &&
        (len <= 16 || !memcmp(qk_json_string(sl->v), s, len))) {
        /* A hit with no credits left: take a new batch. */
        qk_json__ref_n(sl->v, CREDITS);
        sl->credits = CREDITS - 1;
        return sl->v;
    }
    qk_json *n = qk_json_string_new_len(s, len);
    if (!n)
        return NULL;
    slot_drop(sl);
    /* The slot's own reference and a batch of credits; n is not shared
     * yet, so its count is simply set. */
    qk_json__set_refs(n, 2 + CREDITS);
    *sl = (qk_strcache_slot){n, w0, w1, (uint32_t)len, CREDITS};
    if (++c->misses > 4 * (c->mask + 1) && c->mask + 1 < QK_STRCACHE_MAX_SLOTS)
        resize(c, 2 * (c->mask + 1));
    return n;
}

void qk_strcache_size_for(qk_strcache *c, size_t bytes)
{
    uint32_t slots = QK_STRCACHE_MIN_SLOTS;
    /* About one distinct short string per 64 bytes in QMP replies. */
    while (slots < QK_STRCACHE_MAX_SLOTS && slots < bytes / 64)
        slots *= 2;
    if (!c->slot)
        resize(c, slots);
}

void qk_strcache_clear(qk_strcache *c)
{
    if (!c->slot)
        return;
    for (uint32_t i = 0; i <= c->mask; i++)
        slot_drop(&c->slot[i]);
    qk_free(c->slot);
    *c = (qk_strcache){0};
}
