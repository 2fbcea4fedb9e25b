/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common: the buffer, error strings, allocator hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qmpkit/common.h"
#include "../testutil.h"

static void test_buf_append(void **state)
{
    (void)state;
    qk_buf b = QK_BUF_INIT;
    assert_int_equal(qk_buf_append_str(&b, "abc"), 0);
    assert_int_equal(qk_buf_append_char(&b, '-'), 0);
    assert_int_equal(qk_buf_printf(&b, "%d/%s", 42, "x"), 0);
    assert_string_equal(b.data, "abc-42/x");
    assert_int_equal(b.len, 8);
    qk_buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    qk_buf_free(&b);
    assert_null(b.data);
}

static void test_buf_printf_long(void **state)
{
    (void)state;
    qk_buf b = QK_BUF_INIT;
    char big[1000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(qk_buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, 1001);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[1000], '>');
    size_t len;
    char *s = qk_buf_steal(&b, &len);
    assert_int_equal(len, 1001);
    assert_null(b.data);
    qk_free(s);
}

static void test_buf_binary(void **state)
{
    (void)state;
    qk_buf b = QK_BUF_INIT;
    assert_int_equal(qk_buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4);
    qk_buf_free(&b);
}

static int buf_op(void *arg)
{
    (void)arg;
    qk_buf b = QK_BUF_INIT;
    for (int i = 0; i < 100; i++)
        if (qk_buf_printf(&b, "%d,", i) < 0) {
            qk_buf_free(&b);
            return -1;
        }
    qk_buf_free(&b);
    return 0;
}

static void test_buf_alloc_failure(void **state)
{
    (void)state;
    assert_true(tu_alloc_fail_loop(buf_op, NULL) > 1);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(qk_strerror(QK_ERR_NOMEM), "out of memory");
    assert_string_equal(qk_strerror(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append),
        cmocka_unit_test(test_buf_printf_long),
        cmocka_unit_test(test_buf_binary),
        cmocka_unit_test(test_buf_alloc_failure),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
