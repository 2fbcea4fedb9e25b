/* SPDX-License-Identifier: MIT */
/* Timing helpers shared by the benchmarks. */
#ifndef QK_BENCH_UTIL_H
#define QK_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

/* Monotonic clock in seconds. */
static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* qsort comparator for doubles, ascending. */
static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
