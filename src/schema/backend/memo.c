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
    const void *key;
    uintptr_t what;
    void *val;
};

static size_t slot_of(const void *key, enum gmemo_what what, size_t mask)
{
    uint64_t h = ((uint64_t)(uintptr_t)key ^ (uint64_t)what) *
                 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & mask;
}

void *gmemo_get(const gen *g, const void *key, enum gmemo_what what)
{
    if (!g->memo_cap)
        return NULL;
    size_t mask = g->memo_cap - 1;
    for (size_t i = slot_of(key, what, mask);; i = (i + 1) & mask) {
        const gmemo_slot *s = &g->memo[i];
        if (!s->key)
            return NULL;
        if (s->key == key && s->what == (uintptr_t)what)
            return s->val;
    }
}

static void insert(gmemo_slot *tab, size_t cap, const gmemo_slot *e)
{
    size_t mask = cap - 1;
    size_t i = slot_of(e->key, (enum gmemo_what)e->what, mask);
    while (tab[i].key)
        i = (i + 1) & mask;
    tab[i] = *e;
}

/* Kept at most half full; running out of memory only loses the memo. */
void gmemo_put(gen *g, const void *key, enum gmemo_what what, void *val)
{
    if (2 * (g->memo_n + 1) > g->memo_cap) {
        size_t cap = g->memo_cap ? 2 * g->memo_cap : 4096;
        gmemo_slot *tab = qk_calloc(cap, sizeof(*tab));
        if (!tab)
            return;
        for (size_t i = 0; i < g->memo_cap; i++)
            if (g->memo[i].key)
                insert(tab, cap, &g->memo[i]);
        qk_free(g->memo);
        g->memo = tab;
        g->memo_cap = cap;
    }
    gmemo_slot e = {key, (uintptr_t)what, val};
    insert(g->memo, g->memo_cap, &e);
    g->memo_n++;
}

void gmemo_free(gen *g)
{
    qk_free(g->memo);
    g->memo = NULL;
    g->memo_n = g->memo_cap = 0;
}
