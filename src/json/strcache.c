/* SPDX-License-Identifier: MIT */
/* The parser's string cache (see strcache-int.h): direct-mapped, a miss
 * replaces the slot. */
#include <string.h>

#include "common/alloc-int.h"
#include "json/strcache-int.h"
#include "json/value-layout-int.h"

/* A cheap hash of up to 32 bytes: the length and the first and last
 * eight bytes (overlapping when short). */
static uint32_t hash(const char *s, size_t len)
{
    uint64_t a = 0, b = 0;
    if (len >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + len - 8, 8);
    } else {
        for (size_t i = 0; i < len; i++)
            a = a << 8 | (uint8_t)s[i];
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ len;
    return (uint32_t)(h >> 32 ^ h);
}

static bool same(const qk_json *v, const char *s, size_t len)
{
    const qk_json_str *st = QK_CSTR(v);
    return st->len == len && !memcmp(st->data, s, len);
}

qk_json *qk_strcache_get(qk_strcache *c, const char *s, size_t len)
{
    if (len > QK_STRCACHE_MAXLEN)
        return qk_json_string_new_len(s, len);
    if (!c->slot) {
        c->slot = qk_calloc(QK_STRCACHE_SLOTS, sizeof *c->slot);
        if (!c->slot)
            return qk_json_string_new_len(s, len);
    }
    qk_json **slot = &c->slot[hash(s, len) & (QK_STRCACHE_SLOTS - 1)];
    qk_json *v = *slot;
    if (v && same(v, s, len))
        return qk_json_ref(v);
    qk_json *n = qk_json_string_new_len(s, len);
    if (!n)
        return NULL;
    qk_json_unref(v);
    *slot = qk_json_ref(n);
    return n;
}

void qk_strcache_clear(qk_strcache *c)
{
    if (!c->slot)
        return;
    for (size_t i = 0; i < QK_STRCACHE_SLOTS; i++)
        qk_json_unref(c->slot[i]);
    qk_free(c->slot);
    c->slot = NULL;
}
