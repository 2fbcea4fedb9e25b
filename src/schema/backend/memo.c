/* SPDX-License-Identifier: MIT */
/*
 * The back ends' memo: a map from a string's address (and what was derived
 * from it) to the derived value. The same few thousand names and format
 * strings come back hundreds of thousands of times while QEMU's schema is
 * generated, and deriving them again dominated the profile. Keys are
 * addresses, not contents: every string a back end passes lives until
 * generation ends (model names, pool strings, literals), so an address
 * never comes back with other text.
 */
#include <stdint.h>

#include "common/alloc-int.h"
#include "schema/backend/gen-int.h"

struct gmemo_slot {
    uint64_t key;    /* the address, shifted, with WHAT in its low bits */
    void *val;
};

/* User-space addresses fit in 57 bits even with 5-level paging. */
static uint64_t key_of(const void *key, enum gmemo_what what)
{
    return (uint64_t)(uintptr_t)key << 3 | (uint64_t)what;
}

static size_t slot_of(uint64_t k, size_t mask)
{
    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

void *gmemo_get(const gmemo *m, const void *key, enum gmemo_what what)
{
    if (!m->cap)
        return NULL;
    uint64_t k = key_of(key, what);
    size_t mask = m->cap - 1;
    for (size_t i = slot_of(k, mask);; i = (i + 1) & mask) {
        const gmemo_slot *s = &m->tab[i];
        if (s->key == k)
            return s->val;
        if (!s->key)
            return NULL;
    }
}

static void insert(gmemo_slot *tab, size_t cap, uint64_t k, void *val)
{
    size_t mask = cap - 1;
    size_t i = slot_of(k, mask);
    while (tab[i].key)
        i = (i + 1) & mask;
    tab[i].key = k;
    tab[i].val = val;
}

/* Kept at most half full; running out of memory only loses the memo. */
void gmemo_put(gmemo *m, const void *key, enum gmemo_what what, void *val)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        gmemo_slot *tab = qk_calloc(cap, sizeof(*tab));
        if (!tab)
            return;
        for (size_t i = 0; i < m->cap; i++)
            if (m->tab[i].key)
                insert(tab, cap, m->tab[i].key, m->tab[i].val);
        qk_free(m->tab);
        m->tab = tab;
        m->cap = cap;
    }
    insert(m->tab, m->cap, key_of(key, what), val);
    m->n++;
}

void gmemo_free(gmemo *m)
{
    qk_free(m->tab);
    m->tab = NULL;
    m->n = m->cap = 0;
}
