/* SPDX-License-Identifier: MIT */
/* jansson as a benchmark peer: json_loadb and json_dumpb. */
#include <jansson.h>
#include <stdlib.h>

#include "bench-peers.h"

static void *jn_parse(const char *text, size_t len)
{
    json_error_t err;
    return json_loadb(text, len, 0, &err);
}

static void jn_free(void *doc)
{
    json_decref(doc);
}

/* jansson's default form (no JSON_COMPACT) is QEMU's: ", " and ": ". */
static size_t jn_write(void *doc)
{
    static char *buf;
    static size_t cap;
    size_t n = json_dumpb(doc, buf, cap, 0);
    if (n > cap) {
        free(buf);
        cap = n * 2;
        buf = malloc(cap);
        if (!buf)
            return 0;
        n = json_dumpb(doc, buf, cap, 0);
    }
    return n;
}

const bench_peer bench_jansson = {
    "jansson", "json_loadb", "json_dumpb", jn_parse, jn_free, jn_write,
};
