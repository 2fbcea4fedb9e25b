/* SPDX-License-Identifier: MIT */
/* The runtime's small-block cache (src/rt/blocks.c): recycled blocks come
 * back zeroed and large enough, a caller's allocator sees every block, and
 * a thread's cache is released when the thread exits. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "qmpkit/rt.h"
#include "../testutil.h"

#define N 300

static void test_reuse_zeroed(void **state)
{
    (void)state;
    void *p[N];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < N; i++) {
            size_t n = i % 150 + 1;
            unsigned char *b = qk_rt_zalloc(n);
            assert_non_null(b);
#ifdef __GLIBC__
            assert_true(malloc_usable_size(b) >= n);
#endif
            for (size_t j = 0; j < n; j++)
                assert_int_equal(b[j], 0);
            memset(b, 0xa5, n);
            p[i] = b;
        }
        for (size_t i = 0; i < N; i++)
            qk_rt_free(p[i]);
    }
    qk_rt_free(NULL);
}

static void test_strndup(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        char *s = qk_rt_strndup("abcdef", 3);
        assert_string_equal(s, "abc");
        char *t = qk_rt_strdup("a longer string, past the first class");
        assert_string_equal(t, "a longer string, past the first class");
        assert_null(qk_rt_strdup(NULL));
        qk_rt_free(s);
        qk_rt_free(t);
    }
}

/* With a caller's allocator installed, nothing comes from the cache and
 * nothing goes into it. */
static void test_custom_allocator(void **state)
{
    (void)state;
    void *warm = qk_rt_zalloc(24);
    qk_rt_free(warm); /* now cached */
    tu_alloc_install(0);
    void *a = qk_rt_zalloc(24);
    char *s = qk_rt_strdup("xyz");
    assert_int_equal(tu_alloc_live, 2);
    qk_rt_free(a);
    qk_rt_free(s);
    assert_int_equal(tu_alloc_live, 0);
    tu_alloc_restore();
}

static void *churn(void *arg)
{
    (void)arg;
    void *p[N];
    for (size_t i = 0; i < N; i++)
        p[i] = qk_rt_zalloc(i % 120 + 1);
    for (size_t i = 0; i < N; i++)
        qk_rt_free(p[i]);
    return NULL; /* the cache is flushed at exit */
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_zeroed),
        cmocka_unit_test(test_strndup),
        cmocka_unit_test(test_custom_allocator),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
