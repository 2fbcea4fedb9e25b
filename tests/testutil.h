/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the tests: a counting allocator that can fail the Nth
 * allocation (for allocation-failure loops), the path to ../shared, and
 * whole-file reading. Header-only so each test stays one file.
 */
#ifndef QK_TESTUTIL_H
#define QK_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmpkit/common.h"

/* ---- failing allocator ---- */

static long tu_alloc_countdown = -1; /* fail when it reaches 0; -1: never */
static long tu_alloc_live;           /* outstanding blocks */
static long tu_alloc_failed;         /* how many allocations were refused */

static void *tu_malloc(size_t n)
{
    if (tu_alloc_countdown == 0) {
        tu_alloc_failed++;
        return NULL;
    }
    if (tu_alloc_countdown > 0)
        tu_alloc_countdown--;
    void *p = malloc(n);
    if (p)
        tu_alloc_live++;
    return p;
}

static void *tu_realloc(void *p, size_t n)
{
    if (tu_alloc_countdown == 0) {
        tu_alloc_failed++;
        return NULL;
    }
    if (tu_alloc_countdown > 0)
        tu_alloc_countdown--;
    return realloc(p, n);
}

static void tu_free(void *p)
{
    if (p)
        tu_alloc_live--;
    free(p);
}

/* Installs the counting allocator; fail_at = N fails the Nth allocation
 * from now (1-based); 0 never fails. */
static inline void tu_alloc_install(long fail_at)
{
    static const qk_allocator a = {tu_malloc, tu_realloc, tu_free};
    tu_alloc_countdown = fail_at > 0 ? fail_at - 1 : -1;
    tu_alloc_failed = 0;
    tu_alloc_live = 0;
    qk_set_allocator(&a);
}

static inline void tu_alloc_restore(void)
{
    qk_set_allocator(NULL);
}

/*
 * Runs op(arg) with the Nth allocation failing, for N = 1, 2, ... until a
 * run sees no failure. After every run, every block must have been freed
 * (op must release what it made). op returns 0 on success. Returns the
 * number of runs, or -1 (with a message) on a leak.
 */
static inline long tu_alloc_fail_loop(int (*op)(void *), void *arg)
{
    for (long n = 1;; n++) {
        tu_alloc_install(n);
        int rc = op(arg);
        long failed = tu_alloc_failed, live = tu_alloc_live;
        tu_alloc_restore();
        if (live != 0) {
            fprintf(stderr, "alloc-fail loop: %ld blocks leaked at N=%ld\n",
                    live, n);
            return -1;
        }
        if (failed == 0) {
            if (rc != 0) {
                fprintf(stderr, "alloc-fail loop: op failed without OOM\n");
                return -1;
            }
            return n;
        }
    }
}

/* ---- paths and files ---- */

/* $QK_SHARED/rel if that exists, else NULL (the caller skips). */
static inline const char *tu_shared_path(const char *rel)
{
    static char path[4096];
    const char *base = getenv("QK_SHARED");
    if (!base)
        base = "../shared";
    snprintf(path, sizeof path, "%s/%s", base, rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fclose(f);
    return path;
}

/* Reads a whole file (NUL-terminated); NULL if unreadable. free() it. */
static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

#endif
