/* SPDX-License-Identifier: MIT */
/*
 * The peers bench-json.c measures qmpkit against. jansson's and json-c's
 * headers cannot share a translation unit (both define json_object), so
 * each peer lives in its own file behind this small table.
 */
#ifndef BENCH_PEERS_H
#define BENCH_PEERS_H

#include <stddef.h>

typedef struct bench_peer {
    const char *name;    /* "jansson" */
    const char *parse_fn; /* the call measured, for the report */
    const char *write_fn;
    void *(*parse)(const char *text, size_t len); /* NULL on error */
    void (*free_doc)(void *doc);
    /* Compact write of doc; returns the length, 0 on error. */
    size_t (*write)(void *doc);
} bench_peer;

#ifdef HAVE_JANSSON
extern const bench_peer bench_jansson;
#endif
#ifdef HAVE_JSONC
extern const bench_peer bench_jsonc;
#endif

#endif
