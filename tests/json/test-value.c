/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the JSON value model (src/json/value.c) and the pack
 * builder (src/json/pack.c): constructors, lossless number getters,
 * arrays, objects with and without their hash index, equality, deep copy,
 * allocation-failure loops, deep trees and refcounts shared by threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>

#include "qmpkit/json.h"
#include "json/value-int.h"
#include "json/value-layout-int.h"
#include "../testutil.h"

static unsigned refs(const qk_json *v)
{
    return (unsigned)atomic_load(&((qk_json *)v)->refcnt);
}

/* ---- scalars ----------------------------------------------------------- */

static void test_singletons(void **state)
{
    (void)state;
    qk_json *n = qk_json_null(), *t = qk_json_bool(true), *f = qk_json_bool(false);
    assert_ptr_equal(n, qk_json_null());
    assert_ptr_equal(t, qk_json_bool(7));
    assert_ptr_not_equal(t, f);
    assert_int_equal(qk_json_typeof(n), QK_JSON_NULL);
    assert_int_equal(qk_json_typeof(t), QK_JSON_BOOL);
    assert_true(qk_json_is_null(n));
    assert_true(qk_json_is_bool(f));
    assert_true(qk_json_get_bool(t));
    assert_false(qk_json_get_bool(f));
    assert_false(qk_json_get_bool(n));
    /* ref/unref never touch the singletons */
    for (int i = 0; i < 10; i++) {
        assert_ptr_equal(qk_json_ref(n), n);
        qk_json_unref(t);
        qk_json_unref(f);
        qk_json_unref(n);
    }
    assert_int_equal(refs(n), 0);
    assert_string_equal(qk_json_type_name(n), "null");
    assert_string_equal(qk_json_type_name(t), "boolean");
    qk_json_unref(NULL);
    assert_null(qk_json_ref(NULL));
    assert_false(qk_json_is_null(NULL));
    assert_int_equal(qk_json_typeof(NULL), QK_JSON_NULL);
}

static void test_type_predicates(void **state)
{
    (void)state;
    qk_json *v[] = {qk_json_int_new(1), qk_json_uint_new(UINT64_MAX),
                    qk_json_double_new(1.5), qk_json_string_new("x"),
                    qk_json_array_new(), qk_json_object_new()};
    const char *names[] = {"integer", "integer", "number", "string", "array", "object"};
    qk_json_type types[] = {QK_JSON_INT, QK_JSON_UINT, QK_JSON_DOUBLE,
                            QK_JSON_STRING, QK_JSON_ARRAY, QK_JSON_OBJECT};
    for (int i = 0; i < 6; i++) {
        assert_non_null(v[i]);
        assert_int_equal(qk_json_typeof(v[i]), types[i]);
        assert_string_equal(qk_json_type_name(v[i]), names[i]);
        assert_int_equal(qk_json_is_integer(v[i]), i < 2);
        assert_int_equal(qk_json_is_number(v[i]), i < 3);
        assert_int_equal(qk_json_is_string(v[i]), i == 3);
        assert_int_equal(qk_json_is_array(v[i]), i == 4);
        assert_int_equal(qk_json_is_object(v[i]), i == 5);
        assert_false(qk_json_is_null(v[i]));
        assert_false(qk_json_is_bool(v[i]));
        qk_json_unref(v[i]);
    }
}

static void test_int_getters(void **state)
{
    (void)state;
    int64_t i;
    uint64_t u;
    double d;
    qk_json *v;

    v = qk_json_int_new(INT64_MIN);
    assert_int_equal(qk_json_get_int64(v, &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(qk_json_get_uint64(v, &u), QK_ERR_RANGE);
    assert_int_equal(qk_json_get_double(v, &d), 0); /* -2^63 is exact */
    assert_true(d == -9223372036854775808.0);
    qk_json_unref(v);

    v = qk_json_int_new(INT64_MAX);
    assert_int_equal(qk_json_get_int64(v, &i), 0);
    assert_true(i == INT64_MAX);
    assert_int_equal(qk_json_get_uint64(v, &u), 0);
    assert_true(u == INT64_MAX);
    assert_int_equal(qk_json_get_double(v, &d), QK_ERR_RANGE);
    qk_json_unref(v);

    v = qk_json_int_new(-1);
    assert_int_equal(qk_json_get_uint64(v, &u), QK_ERR_RANGE);
    assert_int_equal(qk_json_get_double(v, &d), 0);
    assert_true(d == -1.0);
    qk_json_unref(v);

    v = qk_json_int_new((INT64_C(1) << 53) + 1); /* not a double */
    assert_int_equal(qk_json_get_double(v, &d), QK_ERR_RANGE);
    qk_json_unref(v);
    v = qk_json_int_new(INT64_C(1) << 53);
    assert_int_equal(qk_json_get_double(v, &d), 0);
    qk_json_unref(v);

    /* uint_new keeps small values as int64 */
    v = qk_json_uint_new(5);
    assert_int_equal(qk_json_typeof(v), QK_JSON_INT);
    qk_json_unref(v);
    v = qk_json_uint_new((uint64_t)INT64_MAX);
    assert_int_equal(qk_json_typeof(v), QK_JSON_INT);
    qk_json_unref(v);
    v = qk_json_uint_new((uint64_t)INT64_MAX + 1);
    assert_int_equal(qk_json_typeof(v), QK_JSON_UINT);
    assert_int_equal(qk_json_get_int64(v, &i), QK_ERR_RANGE);
    assert_int_equal(qk_json_get_uint64(v, &u), 0);
    assert_true(u == (uint64_t)INT64_MAX + 1);
    assert_int_equal(qk_json_get_double(v, &d), 0); /* 2^63 is exact */
    qk_json_unref(v);

    v = qk_json_uint_new(UINT64_MAX);
    assert_int_equal(qk_json_get_uint64(v, &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(qk_json_get_double(v, &d), QK_ERR_RANGE);
    qk_json_unref(v);

    v = qk_json_string_new("1");
    assert_int_equal(qk_json_get_int64(v, &i), QK_ERR_INVAL);
    assert_int_equal(qk_json_get_uint64(v, &u), QK_ERR_INVAL);
    assert_int_equal(qk_json_get_double(v, &d), QK_ERR_INVAL);
    qk_json_unref(v);
    assert_int_equal(qk_json_get_int64(qk_json_null(), &i), QK_ERR_INVAL);
    assert_int_equal(qk_json_get_int64(NULL, &i), QK_ERR_INVAL);
}

static void test_double_getters(void **state)
{
    (void)state;
    static const struct {
        double d;
        int irc;
        int64_t i;
        int urc;
        uint64_t u;
    } cases[] = {
        {0.0, 0, 0, 0, 0},
        {-0.0, 0, 0, 0, 0},
        {1.0, 0, 1, 0, 1},
        {-1.0, 0, -1, QK_ERR_RANGE, 0},
        {1.5, QK_ERR_RANGE, 0, QK_ERR_RANGE, 0},
        {-9223372036854775808.0, 0, INT64_MIN, QK_ERR_RANGE, 0},
        {9223372036854775808.0, QK_ERR_RANGE, 0, 0, UINT64_C(9223372036854775808)},
        {18446744073709549568.0, QK_ERR_RANGE, 0, 0, UINT64_C(18446744073709549568)},
        {18446744073709551616.0, QK_ERR_RANGE, 0, QK_ERR_RANGE, 0},
        {1e300, QK_ERR_RANGE, 0, QK_ERR_RANGE, 0},
        {INFINITY, QK_ERR_RANGE, 0, QK_ERR_RANGE, 0},
        {-INFINITY, QK_ERR_RANGE, 0, QK_ERR_RANGE, 0},
        {NAN, QK_ERR_RANGE, 0, QK_ERR_RANGE, 0},
        {5e-324, QK_ERR_RANGE, 0, QK_ERR_RANGE, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        qk_json *v = qk_json_double_new(cases[k].d);
        int64_t i = 42;
        uint64_t u = 42;
        double d;
        assert_int_equal(qk_json_typeof(v), QK_JSON_DOUBLE);
        assert_int_equal(qk_json_get_int64(v, &i), cases[k].irc);
        if (!cases[k].irc)
            assert_true(i == cases[k].i);
        assert_int_equal(qk_json_get_uint64(v, &u), cases[k].urc);
        if (!cases[k].urc)
            assert_true(u == cases[k].u);
        assert_int_equal(qk_json_get_double(v, &d), 0);
        assert_memory_equal(&d, &cases[k].d, sizeof d);
        qk_json_unref(v);
    }
}

static void test_strings(void **state)
{
    (void)state;
    qk_json *s = qk_json_string_new("hello");
    assert_string_equal(qk_json_string(s), "hello");
    assert_int_equal(qk_json_string_length(s), 5);
    qk_json_unref(s);

    s = qk_json_string_new_len("a\0b", 3);
    assert_int_equal(qk_json_string_length(s), 3);
    assert_memory_equal(qk_json_string(s), "a\0b", 4); /* NUL-terminated */
    qk_json_unref(s);

    s = qk_json_string_new("");
    assert_string_equal(qk_json_string(s), "");
    assert_int_equal(qk_json_string_length(s), 0);
    qk_json_unref(s);

    assert_null(qk_json_string_new(NULL));
    assert_null(qk_json_string(qk_json_null()));
    assert_int_equal(qk_json_string_length(qk_json_null()), 0);

    s = qk_json_string_newf("%s-%d", "x", 42);
    assert_string_equal(qk_json_string(s), "x-42");
    qk_json_unref(s);
    char big[600];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    s = qk_json_string_newf("<%s>", big);
    assert_int_equal(qk_json_string_length(s), 601);
    assert_int_equal(qk_json_string(s)[600], '>');
    assert_int_equal(qk_json_string(s)[601], 0);
    qk_json_unref(s);

    /* the parser's in-place path */
    char *data;
    s = qk_json__string_alloc(10, &data);
    memcpy(data, "abc", 3);
    qk_json__string_set_len(s, 3);
    assert_string_equal(qk_json_string(s), "abc");
    assert_int_equal(qk_json_string_length(s), 3);
    qk_json_unref(s);
    assert_null(qk_json__string_alloc(SIZE_MAX - 4, &data));
}

static void test_refcount(void **state)
{
    (void)state;
    qk_json *v = qk_json_int_new(3);
    assert_int_equal(refs(v), 1);
    assert_ptr_equal(qk_json_ref(v), v);
    assert_int_equal(refs(v), 2);
    qk_json_unref(v);
    assert_int_equal(refs(v), 1);
    qk_json_unref(v);
}

/* ---- arrays ------------------------------------------------------------ */

static void test_array(void **state)
{
    (void)state;
    qk_json *a = qk_json_array_new();
    assert_int_equal(qk_json_array_size(a), 0);
    assert_null(qk_json_array_get(a, 0));
    for (int i = 0; i < 100; i++)
        assert_int_equal(qk_json_array_append_take(a, qk_json_int_new(i)), 0);
    assert_int_equal(qk_json_array_size(a), 100);
    for (int i = 0; i < 100; i++) {
        int64_t x;
        assert_int_equal(qk_json_get_int64(qk_json_array_get(a, (size_t)i), &x), 0);
        assert_int_equal(x, i);
    }
    assert_null(qk_json_array_get(a, 100));

    qk_json *s = qk_json_string_new("s");
    assert_int_equal(qk_json_array_append(a, s), 0);
    assert_int_equal(refs(s), 2);
    qk_json_unref(s);
    assert_ptr_equal(qk_json_array_get(a, 100), s);

    /* errors */
    assert_int_equal(qk_json_array_append(a, NULL), QK_ERR_INVAL);
    assert_int_equal(qk_json_array_append_take(a, NULL), QK_ERR_NOMEM);
    assert_int_equal(qk_json_array_append(a, a), QK_ERR_INVAL);
    assert_int_equal(refs(a), 1);
    qk_json *o = qk_json_object_new();
    assert_int_equal(qk_json_array_append_take(o, qk_json_int_new(1)), QK_ERR_INVAL);
    assert_int_equal(qk_json_array_size(o), 0);
    assert_null(qk_json_array_get(o, 0));
    qk_json_unref(o);
    qk_json_unref(a);
}

/* ---- objects ----------------------------------------------------------- */

static void check_order(const qk_json *o, const char *const *keys, size_t n)
{
    assert_int_equal(qk_json_object_size(o), n);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        assert_string_equal(qk_json_object_key_at(o, i, &klen), keys[i]);
        assert_int_equal(klen, strlen(keys[i]));
        assert_ptr_equal(qk_json_object_value_at(o, i), qk_json_object_get(o, keys[i]));
    }
    assert_null(qk_json_object_key_at(o, n, NULL));
    assert_null(qk_json_object_value_at(o, n));
}

static void test_object_small(void **state)
{
    (void)state;
    qk_json *o = qk_json_object_new();
    assert_int_equal(qk_json_object_size(o), 0);
    assert_null(qk_json_object_get(o, "a"));
    assert_int_equal(qk_json_object_set_take(o, "b", qk_json_int_new(1)), 0);
    assert_int_equal(qk_json_object_set_take(o, "a", qk_json_int_new(2)), 0);
    assert_int_equal(qk_json_object_set_take(o, "c", qk_json_int_new(3)), 0);
    check_order(o, (const char *[]){"b", "a", "c"}, 3);

    /* replacing keeps the position */
    assert_int_equal(qk_json_object_set_take(o, "b", qk_json_string_new("B")), 0);
    check_order(o, (const char *[]){"b", "a", "c"}, 3);
    assert_string_equal(qk_json_string(qk_json_object_get(o, "b")), "B");

    qk_json *shared = qk_json_string_new("shared");
    assert_int_equal(qk_json_object_set(o, "d", shared), 0);
    assert_int_equal(refs(shared), 2);
    qk_json_unref(shared);

    /* removal keeps the order of the rest */
    assert_int_equal(qk_json_object_remove(o, "a"), 0);
    assert_int_equal(qk_json_object_remove(o, "a"), QK_ERR_NOENT);
    check_order(o, (const char *[]){"b", "c", "d"}, 3);

    /* keys with NUL bytes */
    assert_int_equal(qk_json_object_set_len_take(o, "x\0y", 3, qk_json_int_new(9)), 0);
    assert_null(qk_json_object_get(o, "x"));
    int64_t i;
    assert_int_equal(qk_json_get_int64(qk_json_object_get_len(o, "x\0y", 3), &i), 0);
    assert_int_equal(i, 9);
    size_t klen;
    assert_memory_equal(qk_json_object_key_at(o, 3, &klen), "x\0y", 4);
    assert_int_equal(klen, 3);

    /* errors */
    assert_int_equal(qk_json_object_set(o, "e", NULL), QK_ERR_INVAL);
    assert_int_equal(qk_json_object_set_take(o, "e", NULL), QK_ERR_NOMEM);
    assert_int_equal(qk_json_object_set_take(o, NULL, qk_json_int_new(1)), QK_ERR_INVAL);
    assert_int_equal(qk_json_object_set(o, "self", o), QK_ERR_INVAL);
    assert_int_equal(refs(o), 1);
    assert_int_equal(qk_json_object_remove(o, NULL), QK_ERR_INVAL);
    qk_json *a = qk_json_array_new();
    assert_int_equal(qk_json_object_set_take(a, "k", qk_json_int_new(1)), QK_ERR_INVAL);
    assert_int_equal(qk_json_object_remove(a, "k"), QK_ERR_INVAL);
    assert_int_equal(qk_json_object_size(a), 0);
    assert_null(qk_json_object_get(a, "k"));
    assert_null(qk_json_object_get(o, NULL));
    assert_null(qk_json_object_key_at(a, 0, NULL));
    qk_json_unref(a);
    qk_json_unref(o);
}

static void test_object_indexed(void **state)
{
    (void)state;
    enum { N = 2000 };
    char key[32];
    qk_json *o = qk_json_object_new();
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        assert_int_equal(qk_json_object_set_take(o, key, qk_json_int_new(i)), 0);
    }
    assert_int_equal(qk_json_object_size(o), N);
    for (int i = 0; i < N; i++) {
        int64_t x;
        snprintf(key, sizeof key, "key-%d", i);
        assert_int_equal(qk_json_get_int64(qk_json_object_get(o, key), &x), 0);
        assert_int_equal(x, i);
        assert_string_equal(qk_json_object_key_at(o, (size_t)i, NULL), key);
    }
    assert_null(qk_json_object_get(o, "key-2000"));
    /* remove every other key; order and lookup stay right */
    for (int i = 0; i < N; i += 2) {
        snprintf(key, sizeof key, "key-%d", i);
        assert_int_equal(qk_json_object_remove(o, key), 0);
    }
    assert_int_equal(qk_json_object_size(o), N / 2);
    for (int i = 1; i < N; i += 2) {
        snprintf(key, sizeof key, "key-%d", i);
        assert_string_equal(qk_json_object_key_at(o, (size_t)i / 2, NULL), key);
        assert_non_null(qk_json_object_get(o, key));
        snprintf(key, sizeof key, "key-%d", i - 1);
        assert_null(qk_json_object_get(o, key));
    }
    /* replace in an indexed object */
    assert_int_equal(qk_json_object_set_take(o, "key-1", qk_json_null()), 0);
    assert_true(qk_json_is_null(qk_json_object_get(o, "key-1")));
    assert_string_equal(qk_json_object_key_at(o, 0, NULL), "key-1");
    qk_json_unref(o);
}

/* Objects crossing the index threshold in both directions. */
static void test_object_threshold(void **state)
{
    (void)state;
    char key[8];
    for (int n = 1; n <= 20; n++) {
        qk_json *o = qk_json_object_new();
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "%c", 'a' + i);
            assert_int_equal(qk_json_object_set_take(o, key, qk_json_int_new(i)), 0);
        }
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "%c", 'a' + i);
            assert_non_null(qk_json_object_get(o, key));
        }
        for (int i = n - 1; i >= 0; i--) {
            snprintf(key, sizeof key, "%c", 'a' + i);
            assert_int_equal(qk_json_object_remove(o, key), 0);
            assert_null(qk_json_object_get(o, key));
            if (i)
                assert_non_null(qk_json_object_get(o, "a"));
        }
        assert_int_equal(qk_json_object_size(o), 0);
        qk_json_unref(o);
    }
}

static void test_object_add_unique(void **state)
{
    (void)state;
    qk_json *o = qk_json_object_new();
    char key[16];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(qk_json__object_add_unique_take(o, qk_json_string_new(key),
                                                         qk_json_int_new(i)), 0);
        /* a duplicate is refused and both references are consumed */
        assert_int_equal(qk_json__object_add_unique_take(o, qk_json_string_new(key),
                                                         qk_json_int_new(-1)),
                         QK_ERR_INVAL);
    }
    assert_int_equal(qk_json_object_size(o), 20);
    int64_t x;
    assert_int_equal(qk_json_get_int64(qk_json_object_get(o, "k13"), &x), 0);
    assert_int_equal(x, 13);
    assert_int_equal(qk_json__object_add_unique_take(o, qk_json_int_new(1),
                                                     qk_json_int_new(1)),
                     QK_ERR_INVAL); /* key not a string */
    assert_int_equal(qk_json__object_add_unique_take(o, NULL, qk_json_int_new(1)),
                     QK_ERR_NOMEM);
    assert_int_equal(qk_json__object_add_unique_take(o, qk_json_string_new("z"), NULL),
                     QK_ERR_NOMEM);
    qk_json *a = qk_json_array_new();
    assert_int_equal(qk_json__object_add_unique_take(a, qk_json_string_new("z"),
                                                     qk_json_int_new(1)),
                     QK_ERR_INVAL);
    qk_json_unref(a);
    assert_int_equal(qk_json_object_size(o), 20);
    qk_json_unref(o);
}

/* ---- equality and copy ------------------------------------------------- */

static qk_json *P(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qk_json *v = qk_json_vpack(fmt, ap);
    va_end(ap);
    assert_non_null(v);
    return v;
}

static void expect_equal(qk_json *a, qk_json *b, bool eq)
{
    assert_int_equal(qk_json_equal(a, b), eq);
    assert_int_equal(qk_json_equal(b, a), eq);
    qk_json_unref(a);
    qk_json_unref(b);
}

static void test_equal(void **state)
{
    (void)state;
    expect_equal(P("n"), P("n"), true);
    expect_equal(P("n"), P("b", 0), false);
    expect_equal(P("b", 1), P("b", 1), true);
    expect_equal(P("i", 1), P("f", 1.0), true);
    expect_equal(P("i", 1), P("f", 1.5), false);
    expect_equal(P("i", 0), P("f", -0.0), true);
    expect_equal(P("f", 0.0), P("f", -0.0), true);
    expect_equal(P("I", INT64_MAX), P("f", 9223372036854775808.0), false);
    expect_equal(P("I", INT64_MIN), P("f", -9223372036854775808.0), true);
    expect_equal(P("I", (INT64_C(1) << 53) + 1), P("f", 9007199254740992.0), false);
    expect_equal(P("I", INT64_C(1) << 53), P("f", 9007199254740992.0), true);
    expect_equal(P("u", UINT64_C(9223372036854775808)), P("f", 9223372036854775808.0), true);
    expect_equal(P("u", UINT64_MAX), P("f", 18446744073709551616.0), false);
    expect_equal(P("u", UINT64_MAX), P("u", UINT64_MAX), true);
    expect_equal(P("u", UINT64_MAX), P("I", INT64_MAX), false);
    expect_equal(P("u", (uint64_t)7), P("I", (int64_t)7), true);
    expect_equal(P("f", NAN), P("f", NAN), false);
    expect_equal(P("f", INFINITY), P("f", INFINITY), true);
    expect_equal(P("f", INFINITY), P("I", INT64_MAX), false);
    expect_equal(P("i", 1), P("s", "1"), false);
    expect_equal(P("s#", "a\0b", (size_t)3), P("s#", "a\0b", (size_t)3), true);
    expect_equal(P("s#", "a\0b", (size_t)3), P("s#", "a\0c", (size_t)3), false);
    expect_equal(P("s", "a"), P("s", "ab"), false);
    expect_equal(P("[]"), P("{}"), false);
    expect_equal(P("[i, i]", 1, 2), P("[i, f]", 1, 2.0), true);
    expect_equal(P("[i, i]", 1, 2), P("[i, i]", 2, 1), false);
    expect_equal(P("[i]", 1), P("[i, i]", 1, 1), false);
    expect_equal(P("{s:i, s:[n, {s:b}]}", "a", 1, "b", "c", 1),
                 P("{s:[n, {s:b}], s:f}", "b", "c", 1, "a", 1.0), true);
    expect_equal(P("{s:i, s:i}", "a", 1, "b", 2), P("{s:i, s:i}", "a", 1, "c", 2), false);
    expect_equal(P("{s:i}", "a", 1), P("{s:i, s:i}", "a", 1, "b", 2), false);
    expect_equal(P("{s:{s:i}}", "a", "b", 1), P("{s:{s:i}}", "a", "b", 2), false);

    qk_json *v = P("[f]", NAN);
    assert_true(qk_json_equal(v, v)); /* identity */
    assert_false(qk_json_equal(v, NULL));
    assert_true(qk_json_equal(NULL, NULL));
    qk_json_unref(v);

    /* big objects in different orders (indexed lookups) */
    qk_json *a = qk_json_object_new(), *b = qk_json_object_new();
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "%d", i);
        qk_json_object_set_take(a, key, qk_json_int_new(i));
        snprintf(key, sizeof key, "%d", 99 - i);
        qk_json_object_set_take(b, key, qk_json_int_new(99 - i));
    }
    assert_true(qk_json_equal(a, b));
    qk_json_object_set_take(b, "50", qk_json_int_new(0));
    assert_false(qk_json_equal(a, b));
    qk_json_unref(a);
    qk_json_unref(b);
}

static void test_copy(void **state)
{
    (void)state;
    qk_json *v = P("{s:[i, s, {s:n}], s:{}, s:u, s:f}", "a", 1, "x", "k", "e", "u",
                   UINT64_MAX, "d", 0.5);
    qk_json *c = qk_json_copy(v);
    assert_non_null(c);
    assert_ptr_not_equal(c, v);
    assert_true(qk_json_equal(v, c));
    assert_ptr_not_equal(qk_json_object_get(c, "a"), qk_json_object_get(v, "a"));
    assert_ptr_not_equal(qk_json_array_get(qk_json_object_get(c, "a"), 2),
                         qk_json_array_get(qk_json_object_get(v, "a"), 2));
    /* changing the copy leaves the original alone */
    qk_json_array_append_take(qk_json_object_get(c, "a"), qk_json_int_new(2));
    qk_json_object_set_take(qk_json_object_get(c, "e"), "new", qk_json_null());
    assert_int_equal(qk_json_array_size(qk_json_object_get(v, "a")), 3);
    assert_int_equal(qk_json_object_size(qk_json_object_get(v, "e")), 0);
    assert_false(qk_json_equal(v, c));
    qk_json_unref(c);

    /* scalars and singletons */
    qk_json *s = qk_json_string_new("x");
    c = qk_json_copy(s);
    assert_true(qk_json_equal(c, s));
    qk_json_unref(c);
    qk_json_unref(s);
    assert_ptr_equal(qk_json_copy(qk_json_null()), qk_json_null());
    assert_null(qk_json_copy(NULL));

    /* an indexed object keeps its order and lookups */
    qk_json *o = qk_json_object_new();
    char key[16];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "m%d", 49 - i);
        qk_json_object_set_take(o, key, qk_json_int_new(i));
    }
    c = qk_json_copy(o);
    assert_true(qk_json_equal(o, c));
    for (int i = 0; i < 50; i++) {
        assert_string_equal(qk_json_object_key_at(c, (size_t)i, NULL),
                            qk_json_object_key_at(o, (size_t)i, NULL));
        snprintf(key, sizeof key, "m%d", i);
        assert_non_null(qk_json_object_get(c, key));
    }
    qk_json_unref(c);
    qk_json_unref(o);
    qk_json_unref(v);
}

/* ---- pack -------------------------------------------------------------- */

static void test_pack(void **state)
{
    (void)state;
    qk_json *v = qk_json_pack("{s:s, s:{s:i}, s:I}", "execute", "sleep",
                              "arguments", "ms", 100, "id", (int64_t)7);
    assert_non_null(v);
    assert_string_equal(qk_json_string(qk_json_object_get(v, "execute")), "sleep");
    int64_t i;
    assert_int_equal(qk_json_get_int64(qk_json_object_get(
                         qk_json_object_get(v, "arguments"), "ms"), &i), 0);
    assert_int_equal(i, 100);
    assert_int_equal(qk_json_get_int64(qk_json_object_get(v, "id"), &i), 0);
    assert_int_equal(i, 7);
    assert_string_equal(qk_json_object_key_at(v, 1, NULL), "arguments");
    qk_json_unref(v);

    qk_json *o = qk_json_string_new("owned"), *b = qk_json_string_new("borrowed");
    v = qk_json_pack("[s# u f b b n o O [] {}]", "a\0bc", (size_t)3, UINT64_MAX,
                     2.5, 1, 0, o, b);
    assert_non_null(v);
    assert_int_equal(qk_json_array_size(v), 10);
    assert_int_equal(qk_json_string_length(qk_json_array_get(v, 0)), 3);
    uint64_t u;
    assert_int_equal(qk_json_get_uint64(qk_json_array_get(v, 1), &u), 0);
    assert_true(u == UINT64_MAX);
    double d;
    assert_int_equal(qk_json_get_double(qk_json_array_get(v, 2), &d), 0);
    assert_true(d == 2.5);
    assert_true(qk_json_get_bool(qk_json_array_get(v, 3)));
    assert_false(qk_json_get_bool(qk_json_array_get(v, 4)));
    assert_true(qk_json_is_bool(qk_json_array_get(v, 4)));
    assert_true(qk_json_is_null(qk_json_array_get(v, 5)));
    assert_ptr_equal(qk_json_array_get(v, 6), o);
    assert_ptr_equal(qk_json_array_get(v, 7), b);
    assert_int_equal(refs(o), 1);
    assert_int_equal(refs(b), 2);
    assert_true(qk_json_is_array(qk_json_array_get(v, 8)));
    assert_true(qk_json_is_object(qk_json_array_get(v, 9)));
    qk_json_unref(v);
    assert_int_equal(refs(b), 1);
    qk_json_unref(b);

    /* scalars at top level, s# keys, duplicate keys (last wins) */
    v = qk_json_pack(" i ", -3);
    assert_int_equal(qk_json_get_int64(v, &i), 0);
    assert_int_equal(i, -3);
    qk_json_unref(v);
    v = qk_json_pack("{s#:i, s:i, s:i}", "keyX", (size_t)3, 1, "a", 2, "a", 3);
    assert_int_equal(qk_json_object_size(v), 2);
    assert_non_null(qk_json_object_get(v, "key"));
    assert_int_equal(qk_json_get_int64(qk_json_object_get(v, "a"), &i), 0);
    assert_int_equal(i, 3);
    qk_json_unref(v);
    v = qk_json_pack("[[[[]]]]");
    assert_int_equal(qk_json_array_size(qk_json_array_get(qk_json_array_get(v, 0), 0)), 1);
    qk_json_unref(v);
}

/* Bad formats return NULL and still consume every 'o'. Counted with the
 * test allocator: nothing may stay allocated. */
static void pack_bad_check(qk_json *v, const char *fmt)
{
    if (v)
        fail_msg("format '%s' was accepted", fmt);
    if (tu_alloc_live != 0)
        fail_msg("format '%s' leaked %ld blocks", fmt, tu_alloc_live);
}

#define BAD(...) pack_bad_check(qk_json_pack(__VA_ARGS__), #__VA_ARGS__)

static void test_pack_errors(void **state)
{
    (void)state;
    tu_alloc_install(0); /* counts blocks: nothing may stay allocated */
    BAD("");
    BAD("   ");
    BAD("[");
    BAD("{");
    BAD("]");
    BAD("}");
    BAD("[}");
    BAD("{]");
    BAD("{i}", 1);
    BAD("{s}", "k");
    BAD("{s:i", "k", 1);
    BAD("x");
    BAD("[x]");
    BAD("i i", 1, 2);
    BAD("[] []");
    BAD("{s:i s:i}x", "a", 1, "b", 2);
    BAD("[i]]", 1);
    BAD("{s:}", "k");
    /* every 'o' is consumed whatever fails, before or after it */
    BAD("[o x]", qk_json_array_new());
    BAD("[o", qk_json_array_new());
    BAD("o o", qk_json_array_new(), qk_json_string_new("x"));
    BAD("{s:o, i:o}", "k", qk_json_array_new(), 1, qk_json_array_new());
    BAD("{o:i}", qk_json_array_new(), 1);
    BAD("x [s#, o]", "ab", (size_t)1, qk_json_array_new());
    BAD("[s, o]", NULL, qk_json_array_new());
    BAD("{s:i, s:o}", NULL, 1, "k", qk_json_array_new());
    BAD("[o, o]", NULL, qk_json_array_new());
    BAD("[O, s#, o]", NULL, "x", (size_t)1, qk_json_array_new());
    BAD("[s#, o]", NULL, (size_t)1, qk_json_array_new());
    assert_null(qk_json_pack(NULL));
    tu_alloc_restore();

    /* too deep */
    char deep[300];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 99);
    deep[299] = 0;
    assert_null(qk_json_pack(deep));
}

static int pack_op(void *arg)
{
    (void)arg;
    qk_json *o = qk_json_pack("[i, i]", 1, 2);
    if (!o)
        return -1;
    qk_json *v = qk_json_pack(
        "{s:s, s:{s:[i, I, u, f, b, n, {s:s#}], s:o}, s:{s:{s:{}}}, s:[[], s]}",
        "execute", "frobnicate", "arguments", "list", 1, (int64_t)-2, UINT64_MAX,
        0.25, 1, "k", "vv", (size_t)2, "obj", o, "deep", "a", "b", "arr",
        "a string long enough to need its own bytes");
    if (!v)
        return -1; /* o was consumed */
    int rc = qk_json_object_size(v) == 4 ? 0 : -1;
    qk_json_unref(v);
    return rc;
}

static void test_pack_alloc_failure(void **state)
{
    (void)state;
    long runs = tu_alloc_fail_loop(pack_op, NULL);
    assert_true(runs > 10);
}

static int copy_op(void *arg)
{
    const qk_json *src = arg;
    qk_json *c = qk_json_copy(src);
    if (!c)
        return -1;
    int rc = qk_json_equal(c, src) ? 0 : -1;
    qk_json_unref(c);
    return rc;
}

static void test_copy_alloc_failure(void **state)
{
    (void)state;
    qk_json *v = qk_json_array_new();
    qk_json *o = qk_json_object_new();
    char key[16];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "k%d", i);
        qk_json_object_set_take(o, key, qk_json_pack("[i, {s:s}, []]", i, "x", "y"));
    }
    qk_json_array_append_take(v, o);
    /* nesting deeper than the walk's local frames */
    qk_json *deep = qk_json_array_new(), *cur = deep;
    for (int i = 0; i < 100; i++) {
        qk_json *n = qk_json_array_new();
        qk_json_array_append_take(cur, n);
        cur = n;
    }
    qk_json_array_append_take(v, deep);
    long runs = tu_alloc_fail_loop(copy_op, v);
    assert_true(runs > 100);
    qk_json_unref(v);
}

/* ---- deep and wide trees ----------------------------------------------- */

static qk_json *make_deep(int depth, bool objects)
{
    qk_json *v = qk_json_int_new(1);
    for (int i = 0; i < depth; i++) {
        qk_json *c = objects && (i & 1) ? qk_json_object_new() : qk_json_array_new();
        assert_non_null(c);
        int rc = qk_json_is_object(c) ? qk_json_object_set_take(c, "k", v)
                                      : qk_json_array_append_take(c, v);
        assert_int_equal(rc, 0);
        v = c;
    }
    return v;
}

static void test_deep_tree(void **state)
{
    (void)state;
    qk_json *v = make_deep(100000, true);
    qk_json *c = qk_json_copy(v);
    assert_non_null(c);
    assert_true(qk_json_equal(v, c));
    qk_json_unref(c);
    qk_json_unref(v); /* must not recurse */

    v = make_deep(300000, false);
    qk_json_unref(v);
}

static void test_shared_subtrees(void **state)
{
    (void)state;
    /* a DAG: one child in many parents is freed once, when the last goes */
    qk_json *leaf = P("{s:[i]}", "x", 1);
    qk_json *a = qk_json_array_new(), *b = qk_json_array_new();
    for (int i = 0; i < 10; i++) {
        qk_json_array_append(a, leaf);
        qk_json_array_append(b, leaf);
    }
    qk_json_unref(leaf);
    assert_int_equal(refs(leaf), 20);
    qk_json_unref(a);
    assert_int_equal(refs(leaf), 10);
    assert_int_equal(qk_json_object_size(qk_json_array_get(b, 9)), 1);
    qk_json_unref(b);
}

/* ---- threads ----------------------------------------------------------- */

static void *hammer(void *arg)
{
    qk_json *v = arg;
    for (int i = 0; i < 1000000; i++) {
        qk_json *r = qk_json_ref(v);
        if (i & 1)
            qk_json_ref(r);
        qk_json_unref(r);
        if (i & 1)
            qk_json_unref(v);
    }
    return NULL;
}

static void test_threads_refcount(void **state)
{
    (void)state;
    qk_json *v = P("{s:[i]}", "x", 1);
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, hammer, v), 0);
    assert_int_equal(pthread_create(&t2, NULL, hammer, v), 0);
    hammer(v);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(refs(v), 1);
    qk_json_unref(v);
}

/* Values built on one thread and freed on another (each thread recycles
 * blocks through its own cache, flushed when the thread exits). */
static void *build_tree(void *arg)
{
    (void)arg;
    qk_json *a = qk_json_array_new();
    for (int i = 0; i < 5000; i++)
        qk_json_array_append_take(a, qk_json_pack("{s:s, s:[i, f]}", "k", "v", "n", i, 0.5));
    return a;
}

static void *free_tree(void *arg)
{
    for (int round = 0; round < 3; round++) {
        qk_json *t = build_tree(NULL);
        qk_json_unref(t);
    }
    qk_json_unref(arg);
    return NULL;
}

static void test_threads_build_free(void **state)
{
    (void)state;
    for (int k = 0; k < 4; k++) {
        pthread_t t;
        void *tree;
        assert_int_equal(pthread_create(&t, NULL, build_tree, NULL), 0);
        pthread_join(t, &tree);
        assert_int_equal(qk_json_array_size(tree), 5000);
        assert_int_equal(pthread_create(&t, NULL, free_tree, tree), 0);
        pthread_join(t, NULL);
    }
    /* and the main thread's cache still serves correct values */
    qk_json *v = build_tree(NULL);
    qk_json *c = qk_json_copy(v);
    assert_true(qk_json_equal(v, c));
    qk_json_unref(c);
    qk_json_unref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_singletons),
        cmocka_unit_test(test_type_predicates),
        cmocka_unit_test(test_int_getters),
        cmocka_unit_test(test_double_getters),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_array),
        cmocka_unit_test(test_object_small),
        cmocka_unit_test(test_object_indexed),
        cmocka_unit_test(test_object_threshold),
        cmocka_unit_test(test_object_add_unique),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_pack),
        cmocka_unit_test(test_pack_errors),
        cmocka_unit_test(test_pack_alloc_failure),
        cmocka_unit_test(test_copy_alloc_failure),
        cmocka_unit_test(test_deep_tree),
        cmocka_unit_test(test_shared_subtrees),
        cmocka_unit_test(test_threads_refcount),
        cmocka_unit_test(test_threads_build_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
