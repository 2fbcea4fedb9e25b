/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the JSON writer (src/json/writer.c): QEMU's compact and
 * pretty forms, the escaping of every byte, invalid UTF-8, integers and
 * doubles (round trip, locale independence), fixed buffers, failure
 * restoring the output buffer, and very deep nesting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <locale.h>
#include <math.h>

#include "qmpkit/json.h"
#include "json/value-int.h"
#include "../testutil.h"

static qk_json *P(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qk_json *v = qk_json_vpack(fmt, ap);
    va_end(ap);
    assert_non_null(v);
    return v;
}

/* Writes v (consumed) and compares with the expected text. */
static void expect_text(qk_json *v, unsigned flags, const char *want)
{
    size_t len;
    char *s = qk_json_to_string(v, flags, &len);
    assert_non_null(s);
    assert_string_equal(s, want);
    assert_int_equal(len, strlen(want));
    /* the fixed-buffer path produces the same text */
    char buf[4096];
    size_t needed = 0;
    assert_int_equal(qk_json_write_fixed(v, flags, buf, sizeof buf, &needed), 0);
    assert_int_equal(needed, len);
    assert_string_equal(buf, want);
    qk_free(s);
    qk_json_unref(v);
}

static void expect_compact(qk_json *v, const char *want)
{
    expect_text(v, 0, want);
}

/* ---- forms ------------------------------------------------------------- */

static void test_compact(void **state)
{
    (void)state;
    expect_compact(P("{s:i, s:[i, i]}", "a", 1, "b", 1, 2), "{\"a\": 1, \"b\": [1, 2]}");
    expect_compact(P("{}"), "{}");
    expect_compact(P("[]"), "[]");
    expect_compact(P("{s:{}, s:[]}", "return", "x"), "{\"return\": {}, \"x\": []}");
    expect_compact(P("[[], [[]], {}, [{}]]"), "[[], [[]], {}, [{}]]");
    expect_compact(P("[n, b, b]", 1, 0), "[null, true, false]");
    expect_compact(P("n"), "null");
    expect_compact(P("s", "top"), "\"top\"");
    expect_compact(P("{s:{s:{s:[i]}}}", "a", "b", "c", 1), "{\"a\": {\"b\": {\"c\": [1]}}}");
    expect_compact(P("{s:i, s:n}", "id", 1, "return"),
                   "{\"id\": 1, \"return\": null}");
}

static void test_pretty(void **state)
{
    (void)state;
    expect_text(P("{s:{}}", "return"), QK_JSON_PRETTY, "{\n    \"return\": {\n    }\n}");
    expect_text(P("{}"), QK_JSON_PRETTY, "{\n}");
    expect_text(P("[]"), QK_JSON_PRETTY, "[\n]");
    expect_text(P("i", 5), QK_JSON_PRETTY, "5");
    expect_text(P("{s:[i, i], s:{s:n}, s:[]}", "a", 1, 2, "b", "c", "d"), QK_JSON_PRETTY,
                "{\n"
                "    \"a\": [\n"
                "        1,\n"
                "        2\n"
                "    ],\n"
                "    \"b\": {\n"
                "        \"c\": null\n"
                "    },\n"
                "    \"d\": [\n"
                "    ]\n"
                "}");
    expect_text(P("[[{}]]"), QK_JSON_PRETTY,
                "[\n    [\n        {\n        }\n    ]\n]");
    expect_text(P("{s:s, s:{s:i, s:i}}", "QMP", "x", "version", "major", 7, "minor", 2),
                QK_JSON_PRETTY,
                "{\n    \"QMP\": \"x\",\n    \"version\": {\n        \"major\": 7,\n"
                "        \"minor\": 2\n    }\n}");
}

/* ---- strings ----------------------------------------------------------- */

static void want_string(const char *s, size_t len, const char *want)
{
    expect_compact(qk_json_string_new_len(s, len), want);
    qk_buf b = QK_BUF_INIT;
    assert_int_equal(qk_buf_append_str(&b, ">"), 0);
    assert_int_equal(qk_json_write_string(&b, s, len), 0);
    assert_string_equal(b.data + 1, want);
    qk_buf_free(&b);
}

#define EXPECT_STRING(lit, want) want_string(lit, sizeof lit - 1, want)

/* Every ASCII byte, alone and inside safe text (the word-at-a-time scan). */
static void test_escape_ascii(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 0x80; c++) {
        char want[32], in[24];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                snprintf(u, sizeof u, "\\u%04X", c);
                esc = u;
            } else {
                u[0] = (char)c;
                u[1] = 0;
                esc = u;
            }
        }
        char ch = (char)c;
        snprintf(want, sizeof want, "\"%s\"", esc);
        want_string(&ch, 1, want);
        /* at each position of a 16-byte run */
        for (int pos = 0; pos < 16; pos++) {
            char w2[64];
            memset(in, 'a', 16);
            in[pos] = ch;
            snprintf(w2, sizeof w2, "\"%.*s%s%.*s\"", pos, "aaaaaaaaaaaaaaaa", esc,
                     15 - pos, "aaaaaaaaaaaaaaaa");
            want_string(in, 16, w2);
        }
    }
    EXPECT_STRING("a/b", "\"a/b\"");
    EXPECT_STRING("a\0b", "\"a\\u0000b\"");
    EXPECT_STRING("", "\"\"");
    EXPECT_STRING("\x7f\x1f", "\"\\u007F\\u001F\"");
}

/* Short strings take a one-word path: every length below 10, with each
 * kind of byte that needs escaping at each position. */
static void test_escape_short(void **state)
{
    (void)state;
    static const struct {
        char c;
        const char *esc;
    } bad[] = {{'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {0x01, "\\u0001"},
               {0x1f, "\\u001F"}, {0x7f, "\\u007F"}, {(char)0xff, "\\uFFFD"}, {0, "\\u0000"}};
    for (size_t len = 0; len < 10; len++) {
        char in[16], want[80];
        memset(in, 'x', len);
        snprintf(want, sizeof want, "\"%.*s\"", (int)len, "xxxxxxxxxx");
        want_string(in, len, want);
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
                memset(in, '~', len); /* 0x7E: the highest safe byte */
                in[pos] = bad[b].c;
                snprintf(want, sizeof want, "\"%.*s%s%.*s\"", (int)pos, "~~~~~~~~~~",
                         bad[b].esc, (int)(len - pos - 1), "~~~~~~~~~~");
                want_string(in, len, want);
            }
        }
    }
    /* bytes past the length never leak into the output */
    for (size_t len = 0; len < 8; len++) {
        char *d;
        qk_json *v = qk_json__string_alloc(12, &d);
        memset(d, '"', 12);
        memset(d, 'k', len);
        qk_json__string_set_len(v, len);
        char *t = qk_json_to_string(v, 0, NULL);
        char want[32];
        snprintf(want, sizeof want, "\"%.*s\"", (int)len, "kkkkkkkk");
        assert_string_equal(t, want);
        qk_free(t);
        qk_json_unref(v);
    }
    /* strings the parser made in place, shortened after allocation */
    for (size_t len = 0; len < 9; len++) {
        qk_json *v = qk_json_string_new_len(" !#[]}~a", len < 8 ? len : 8);
        char *t = qk_json_to_string(v, 0, NULL);
        char want[32];
        snprintf(want, sizeof want, "\"%.*s\"", (int)(len < 8 ? len : 8), " !#[]}~a");
        assert_string_equal(t, want);
        qk_free(t);
        qk_json_unref(v);
    }
}

static void test_escape_unicode(void **state)
{
    (void)state;
    EXPECT_STRING("t\xc3\xa9st\xf0\x9f\x98\x80", "\"t\\u00E9st\\uD83D\\uDE00\"");
    EXPECT_STRING("\xc2\x80", "\"\\u0080\"");
    EXPECT_STRING("\xdf\xbf", "\"\\u07FF\"");
    EXPECT_STRING("\xe0\xa0\x80", "\"\\u0800\"");
    EXPECT_STRING("\xe2\x82\xac", "\"\\u20AC\"");
    EXPECT_STRING("\xed\x9f\xbf", "\"\\uD7FF\"");
    EXPECT_STRING("\xee\x80\x80", "\"\\uE000\"");
    EXPECT_STRING("\xef\xbf\xbf", "\"\\uFFFF\"");
    EXPECT_STRING("\xef\xbb\xbf", "\"\\uFEFF\"");
    EXPECT_STRING("\xf0\x90\x80\x80", "\"\\uD800\\uDC00\"");
    EXPECT_STRING("\xf4\x8f\xbf\xbf", "\"\\uDBFF\\uDFFF\"");
}

/* One U+FFFD per maximal invalid subpart. */
static void test_escape_invalid_utf8(void **state)
{
    (void)state;
#define FFFD "\\uFFFD"
    EXPECT_STRING("\x80", "\"" FFFD "\"");
    EXPECT_STRING("\xbf" "a", "\"" FFFD "a\"");
    EXPECT_STRING("\xc0\x80", "\"" FFFD FFFD "\"");          /* overlong NUL */
    EXPECT_STRING("\xc1\xbf", "\"" FFFD FFFD "\"");          /* overlong */
    EXPECT_STRING("\xe0\x80\x80", "\"" FFFD FFFD FFFD "\""); /* overlong */
    EXPECT_STRING("\xe0\x9f\xbf", "\"" FFFD FFFD FFFD "\""); /* overlong */
    EXPECT_STRING("\xf0\x8f\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\"");
    EXPECT_STRING("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\""); /* surrogate */
    EXPECT_STRING("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\""); /* surrogate */
    EXPECT_STRING("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* > U+10FFFF */
    EXPECT_STRING("\xf5\x80", "\"" FFFD FFFD "\"");
    EXPECT_STRING("\xfe\xff", "\"" FFFD FFFD "\"");
    EXPECT_STRING("\xe2\x82", "\"" FFFD "\"");       /* truncated at the end */
    EXPECT_STRING("\xe2\x82" "A", "\"" FFFD "A\"");  /* truncated, then ASCII */
    EXPECT_STRING("\xf0\x9f\x98" "x", "\"" FFFD "x\"");
    EXPECT_STRING("\xf0\x9f" "\xc3\xa9", "\"" FFFD "\\u00E9\"");
    EXPECT_STRING("\xc3", "\"" FFFD "\"");
    EXPECT_STRING("a\xc3\x28" "b", "\"a" FFFD "(b\"");
    EXPECT_STRING("\xe2\x28\xa1", "\"" FFFD "(" FFFD "\"");
#undef FFFD
}

/* Strings longer than the writer's chunk, with sequences across chunks. */
static void test_escape_long(void **state)
{
    (void)state;
    for (int variant = 0; variant < 3; variant++) {
        qk_buf in = QK_BUF_INIT, want = QK_BUF_INIT;
        qk_buf_append_char(&want, '"');
        for (int i = 0; i < 5000; i++) {
            switch ((i + variant) % 5) {
            case 0:
                qk_buf_append_str(&in, "\xc3\xa9");
                qk_buf_append_str(&want, "\\u00E9");
                break;
            case 1:
                qk_buf_append_str(&in, "plain text ");
                qk_buf_append_str(&want, "plain text ");
                break;
            case 2:
                qk_buf_append_str(&in, "\xf0\x9f\x98\x80");
                qk_buf_append_str(&want, "\\uD83D\\uDE00");
                break;
            case 3:
                qk_buf_append_str(&in, "\n\x01");
                qk_buf_append_str(&want, "\\n\\u0001");
                break;
            default:
                qk_buf_append_str(&in, "\xff");
                qk_buf_append_str(&want, "\\uFFFD");
                break;
            }
        }
        qk_buf_append_char(&want, '"');
        qk_json *v = qk_json_string_new_len(in.data, in.len);
        char *s = qk_json_to_string(v, 0, NULL);
        assert_string_equal(s, want.data);
        qk_free(s);
        qk_json_unref(v);
        qk_buf_free(&in);
        qk_buf_free(&want);
    }
}

/* ---- numbers ----------------------------------------------------------- */

static void test_integers(void **state)
{
    (void)state;
    expect_compact(P("I", INT64_MIN), "-9223372036854775808");
    expect_compact(P("I", INT64_MAX), "9223372036854775807");
    expect_compact(P("u", UINT64_MAX), "18446744073709551615");
    expect_compact(P("u", (uint64_t)INT64_MAX + 1), "9223372036854775808");
    expect_compact(P("[i, i, i, i, i, i, i]", 0, -1, 9, 10, 99, 100, -100),
                   "[0, -1, 9, 10, 99, 100, -100]");
    int64_t p = 1;
    for (int i = 0; i < 19; i++, p = i < 19 ? p * 10 : p) {
        char want[32];
        snprintf(want, sizeof want, "%" PRId64, p - 1);
        expect_compact(qk_json_int_new(p - 1), want);
        snprintf(want, sizeof want, "%" PRId64, -p);
        expect_compact(qk_json_int_new(-p), want);
    }
}

static void expect_double(double d, const char *want)
{
    expect_compact(qk_json_double_new(d), want);
}

static void check_round_trip(double d)
{
    char buf[64];
    qk_json *v = qk_json_double_new(d);
    assert_int_equal(qk_json_write_fixed(v, 0, buf, sizeof buf, NULL), 0);
    qk_json_unref(v);
    double back = strtod(buf, NULL);
    if (memcmp(&back, &d, sizeof d) != 0)
        fail_msg("%.17g written as %s reads back as %.17g", d, buf, back);
    if (!strpbrk(buf, ".e"))
        fail_msg("%s does not look like a double", buf);
}

static void test_doubles(void **state)
{
    (void)state;
    expect_double(0.1, "0.1");
    expect_double(1e22, "1e+22");
    expect_double(5e-324, "5e-324");
    expect_double(1.7976931348623157e308, "1.7976931348623157e+308");
    expect_double(-0.0, "-0.0");
    expect_double(0.0, "0.0");
    expect_double(100000.0, "100000.0");
    expect_double(1e15, "1e+15");
    expect_double(999999999999999.0, "999999999999999.0");
    expect_double(-2.5, "-2.5");
    expect_double(1.0 / 3, "0.3333333333333333");
    expect_double(2.2250738585072014e-308, "2.2250738585072014e-308");
    expect_double(INFINITY, "1e999");
    expect_double(-INFINITY, "-1e999");
    expect_double(NAN, "null");
    expect_compact(P("[f, f]", INFINITY, NAN), "[1e999, null]");

    static const double fixed[] = {
        0.1, 1e22, 5e-324, 1.7976931348623157e308, -0.0, 100000.0, 0.3,
        123456789012345678.0, 1e-7, 4.9406564584124654e-324, 2.2250738585072009e-308,
        9007199254740993.0, 1e100, 0.1 + 0.2, 1e21, 1e-5,
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        check_round_trip(fixed[i]);
        check_round_trip(-fixed[i]);
    }
    /* pseudo-random bit patterns */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (isfinite(d))
            check_round_trip(d);
    }
}

static void test_locale(void **state)
{
    (void)state;
    if (!setlocale(LC_ALL, "de_DE.UTF-8")) {
        fprintf(stderr, "de_DE.UTF-8 unavailable (install locales-all): skipped\n");
        skip();
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.1f", 0.5);
    assert_string_equal(buf, "0,5"); /* the locale really is active */
    expect_double(0.5, "0.5");
    expect_double(1234.5, "1234.5");
    expect_double(-1.25e-7, "-1.25e-07");
    expect_double(1e300, "1e+300");
    expect_double(0.1, "0.1");
    expect_compact(P("{s:f, s:i}", "a", 0.25, "b", 1000000), "{\"a\": 0.25, \"b\": 1000000}");
    /* the same text as in the C locale, for many values */
    enum { N = 2000 };
    static char texts[N][40];
    double vals[N];
    uint64_t x = 0x0123456789ABCDEFull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vals[i] = (double)(x >> 11) / (double)(1ull << (x & 63));
        qk_json *v = qk_json_double_new(vals[i]);
        assert_int_equal(qk_json_write_fixed(v, 0, texts[i], sizeof texts[i], NULL), 0);
        qk_json_unref(v);
    }
    setlocale(LC_ALL, "C");
    for (int i = 0; i < N; i++) {
        char c_text[40];
        qk_json *v = qk_json_double_new(vals[i]);
        assert_int_equal(qk_json_write_fixed(v, 0, c_text, sizeof c_text, NULL), 0);
        qk_json_unref(v);
        assert_string_equal(texts[i], c_text);
        check_round_trip(vals[i]);
    }
}

/* ---- fixed buffers ----------------------------------------------------- */

static void test_fixed(void **state)
{
    (void)state;
    qk_json *v = P("{s:[i, s]}", "key", 12, "value");
    const char *want = "{\"key\": [12, \"value\"]}";
    size_t n = strlen(want), needed;
    char buf[64];

    memset(buf, 'X', sizeof buf);
    assert_int_equal(qk_json_write_fixed(v, 0, buf, n + 1, &needed), 0);
    assert_int_equal(needed, n);
    assert_string_equal(buf, want);
    assert_int_equal(buf[n + 1], 'X'); /* nothing past the size */

    memset(buf, 'X', sizeof buf);
    assert_int_equal(qk_json_write_fixed(v, 0, buf, n, &needed), QK_ERR_NOSPC);
    assert_int_equal(needed, n);
    assert_int_equal(strlen(buf), n - 1);
    assert_memory_equal(buf, want, n - 1);
    assert_int_equal(buf[n], 'X');

    for (size_t size = 1; size < n; size++) {
        memset(buf, 'X', sizeof buf);
        assert_int_equal(qk_json_write_fixed(v, 0, buf, size, &needed), QK_ERR_NOSPC);
        assert_int_equal(needed, n);
        assert_int_equal(strlen(buf), size - 1);
        assert_memory_equal(buf, want, size - 1);
    }
    assert_int_equal(qk_json_write_fixed(v, 0, NULL, 0, &needed), QK_ERR_NOSPC);
    assert_int_equal(needed, n);
    assert_int_equal(qk_json_write_fixed(v, 0, NULL, 5, &needed), QK_ERR_INVAL);
    assert_int_equal(qk_json_write_fixed(NULL, 0, buf, 5, &needed), QK_ERR_INVAL);
    qk_json_unref(v);
}

/* Large output in small and exact buffers: the counting path must agree
 * with the growing one, byte for byte. */
static void test_fixed_large(void **state)
{
    (void)state;
    qk_json *v = qk_json_array_new();
    for (int i = 0; i < 3000; i++)
        qk_json_array_append_take(v, P("{s:s, s:[i, f]}", "name", "t\xc3\xa9st\n", "v", i, 0.5));
    for (unsigned flags = 0; flags <= QK_JSON_PRETTY; flags++) {
        size_t len;
        char *full = qk_json_to_string(v, flags, &len);
        assert_non_null(full);
        size_t sizes[] = {1, 2, 100, 4095, 4096, 4097, 10000, len - 1, len, len + 1, len + 100};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t size = sizes[k], needed = 0;
            char *buf = malloc(size);
            int rc = qk_json_write_fixed(v, flags, buf, size, &needed);
            assert_int_equal(needed, len);
            if (size > len) {
                assert_int_equal(rc, 0);
                assert_string_equal(buf, full);
            } else {
                assert_int_equal(rc, QK_ERR_NOSPC);
                assert_int_equal(strlen(buf), size - 1);
                assert_memory_equal(buf, full, size - 1);
            }
            free(buf);
        }
        qk_free(full);
    }
    qk_json_unref(v);
}

/* ---- buffers and failures ---------------------------------------------- */

static void test_write_appends(void **state)
{
    (void)state;
    qk_buf b = QK_BUF_INIT;
    qk_buf_append_str(&b, "x=");
    qk_json *v = P("[i]", 1);
    assert_int_equal(qk_json_write(&b, v, 0), 0);
    assert_int_equal(qk_json_write(&b, v, QK_JSON_PRETTY), 0);
    assert_string_equal(b.data, "x=[1][\n    1\n]");
    assert_int_equal(b.len, strlen(b.data));
    assert_int_equal(qk_json_write(&b, NULL, 0), QK_ERR_INVAL);
    assert_int_equal(qk_json_write(NULL, v, 0), QK_ERR_INVAL);
    assert_int_equal(qk_json_write_string(&b, NULL, 1), QK_ERR_INVAL);
    assert_int_equal(qk_json_write_string(&b, NULL, 0), 0);
    assert_string_equal(b.data, "x=[1][\n    1\n]\"\"");
    qk_buf_free(&b);
    assert_null(qk_json_to_string(NULL, 0, NULL));
    char *s = qk_json_to_string(v, 0, NULL);
    assert_string_equal(s, "[1]");
    qk_free(s);
    qk_json_unref(v);
}

struct write_case {
    const qk_json *v;
    unsigned flags;
    bool restored; /* every failed write left the buffer as it was */
};

static int write_op(void *arg)
{
    struct write_case *c = arg;
    qk_buf b = QK_BUF_INIT;
    if (qk_buf_append_str(&b, "prefix") < 0)
        return -1;
    int rc = qk_json_write(&b, c->v, c->flags);
    if (rc < 0 && (b.len != 6 || strcmp(b.data, "prefix") != 0))
        c->restored = false;
    if (rc == 0) {
        size_t len = b.len;
        rc = qk_json_write_string(&b, "t\xc3\xa9st", 5);
        if (rc < 0 && (b.len != len || b.data[len] != 0))
            c->restored = false;
    }
    qk_buf_free(&b);
    return rc;
}

static void test_write_alloc_failure(void **state)
{
    (void)state;
    /* deeper than the writer's local frames, long enough to grow the buffer */
    qk_json *v = qk_json_array_new(), *cur = v;
    for (int i = 0; i < 300; i++) {
        qk_json *n = P("{s:s, s:[]}", "k", "a string of some length", "next");
        qk_json_array_append_take(cur, n);
        cur = qk_json_object_get(n, "next");
    }
    for (unsigned flags = 0; flags <= QK_JSON_PRETTY; flags++) {
        struct write_case c = {v, flags, true};
        assert_true(tu_alloc_fail_loop(write_op, &c) > 1);
        assert_true(c.restored);
    }
    /* the fixed writer only allocates frames for deep nesting */
    char buf[16];
    size_t needed;
    qk_json *shallow = P("[i, {s:[]}]", 1, "a");
    tu_alloc_install(1);
    assert_int_equal(qk_json_write_fixed(v, 0, buf, sizeof buf, &needed), QK_ERR_NOMEM);
    assert_int_equal(tu_alloc_failed, 1);
    assert_int_equal(qk_json_write_fixed(shallow, 0, buf, sizeof buf, &needed), 0);
    assert_int_equal(tu_alloc_failed, 1); /* no allocation was attempted */
    tu_alloc_restore();
    assert_string_equal(buf, "[1, {\"a\": []}]");
    qk_json_unref(shallow);
    qk_json_unref(v);
}

/* ---- depth ------------------------------------------------------------- */

static void test_deep(void **state)
{
    (void)state;
    enum { DEPTH = 100000 };
    qk_json *v = qk_json_int_new(7);
    for (int i = 0; i < DEPTH; i++) {
        qk_json *c = (i & 1) ? qk_json_object_new() : qk_json_array_new();
        if (i & 1)
            assert_int_equal(qk_json_object_set_take(c, "", v), 0);
        else
            assert_int_equal(qk_json_array_append_take(c, v), 0);
        v = c;
    }
    size_t len;
    char *s = qk_json_to_string(v, 0, &len);
    assert_non_null(s);
    /* arrays are 2 bytes + child, objects '{"": ' + child + '}' = 6 */
    assert_int_equal(len, 1 + (DEPTH / 2) * 2 + (DEPTH / 2) * 6);
    assert_int_equal(s[0], '{');
    assert_memory_equal(s + 1, "\"\": [", 5);
    assert_int_equal(s[len - 1], '}');
    size_t needed;
    char small[8];
    assert_int_equal(qk_json_write_fixed(v, 0, small, sizeof small, &needed), QK_ERR_NOSPC);
    assert_int_equal(needed, len);
    qk_free(s);
    qk_json_unref(v);

    /* pretty output of moderately deep nesting */
    v = qk_json_array_new();
    for (int i = 0; i < 500; i++) {
        qk_json *c = qk_json_array_new();
        qk_json_array_append_take(c, v);
        v = c;
    }
    s = qk_json_to_string(v, QK_JSON_PRETTY, &len);
    assert_non_null(s);
    /* each level: '[' '\n' indent(d+1) ... '\n' indent(d) ']' */
    size_t want = 0;
    for (size_t d = 0; d < 500; d++)
        want += 2 + 2 + 4 * (d + 1) + 4 * d;
    want += 1 + 1 + 4 * 500 + 1; /* the innermost empty array */
    assert_int_equal(len, want);
    qk_free(s);
    qk_json_unref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_pretty),
        cmocka_unit_test(test_escape_ascii),
        cmocka_unit_test(test_escape_short),
        cmocka_unit_test(test_escape_unicode),
        cmocka_unit_test(test_escape_invalid_utf8),
        cmocka_unit_test(test_escape_long),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_locale),
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_fixed_large),
        cmocka_unit_test(test_write_appends),
        cmocka_unit_test(test_write_alloc_failure),
        cmocka_unit_test(test_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
