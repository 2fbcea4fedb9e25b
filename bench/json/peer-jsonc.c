/* SPDX-License-Identifier: MIT */
/* json-c as a benchmark peer: a reused tokener, and the plain writer. */
#include <json-c/json.h>
#include <string.h>

#include "bench-peers.h"

static void *jc_parse(const char *text, size_t len)
{
    static json_tokener *tok;
    if (!tok)
        tok = json_tokener_new();
    else
        json_tokener_reset(tok);
    return json_tokener_parse_ex(tok, text, (int)len);
}

static void jc_free(void *doc)
{
    json_object_put(doc);
}

/* The plain form does less work than the spaced one: the stricter peer. */
static size_t jc_write(void *doc)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);
    return s ? len : 0;
}

const bench_peer bench_jsonc = {
    "json-c", "json_tokener_parse_ex", "json_object_to_json_string_ext(PLAIN)",
    jc_parse, jc_free, jc_write,
};
