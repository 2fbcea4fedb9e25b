/* SPDX-License-Identifier: MIT */
/*
 * Streaming parser tests: QEMU's messages and recovery (checklist 5.9), the
 * strict mode, limits, error positions, and allocation failures. Every
 * transcript case is also replayed one byte at a time and split at every
 * byte boundary, and must give the same transcript each time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qmpkit/json.h"
#include "../testutil.h"
#include "parser-transcript.h"

typedef struct tcase {
    qk_json_mode mode;
    const char *in;
    const char *want;
    size_t max_size, max_count;
    unsigned max_depth;
} tcase;

#define QMP QK_JSON_QMP
#define STRICT QK_JSON_STRICT

static const tcase cases[] = {
    /* values, both quote styles, QEMU's number typing */
    {QMP, "{\"a\": 1}", "V:{\"a\": 1}\n"},
    {QMP, "{'a': 'it\\'s', \"b\": \"say \\'hi\\'\"}",
     "V:{\"a\": \"it's\", \"b\": \"say 'hi'\"}\n"},
    {QMP, "{'q': '\"'}", "V:{\"q\": \"\\\"\"}\n"},
    {QMP, " [1, [], {}, true, false, null] ",
     "V:[1, [], {}, true, false, null]\n"},
    {QMP, "-0 ", "V:0\n"},
    {QMP, "18446744073709551615 9223372036854775807 -9223372036854775808 ",
     "V:18446744073709551615\nV:9223372036854775807\n"
     "V:-9223372036854775808\n"},
    {QMP, "1.5 -0.25e1 ", "V:1.5\nV:-2.5\n"},
    {QMP, "42", "V:42\n"}, /* completed by finish */
    {QMP, "\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\"",
     "V:\"\\u00E9\\uD83D\\uDE00/\\b\\f\\n\\r\\t\"\n"},
    {QMP, "\"\xc3\xa9\"", "V:\"\\u00E9\"\n"},
    {QMP, "\"a\xc0\x80z\"", "V:\"a\\u0000z\"\n"},
    {QMP, "\"\\u0000\"", "V:\"\\u0000\"\n"},
    {QMP, "{\"a\":1}{\"b\":2}\n[3]", "V:{\"a\": 1}\nV:{\"b\": 2}\nV:[3]\n"},

    /* the parser's messages */
    {QMP, "hello world\n",
     "E:JSON parse error, invalid keyword 'hello'\n"
     "E:JSON parse error, invalid keyword 'world'\n"},
    {QMP, "}", "E:JSON parse error, expecting value\n"},
    {QMP, "]]", "E:JSON parse error, expecting value\n"
                "E:JSON parse error, expecting value\n"},
    {QMP, "{\"a\" 1}", "E:JSON parse error, missing : in object pair\n"},
    {QMP, "{\"execute\": \"x\" \"id\": 9}",
     "E:JSON parse error, expected separator in dict\n"},
    {QMP, "{\"a\": 1 ]", "E:JSON parse error, expected separator in dict\n"},
    {QMP, "[1 2]", "E:JSON parse error, expected separator in list\n"},
    {QMP, "[1}", "E:JSON parse error, expected separator in list\n"},
    {QMP, "{\"x\": 1, \"x\": 2}", "E:JSON parse error, duplicate key\n"},
    {QMP, "[1, 2,]", "E:JSON parse error, expecting value\n"},
    {QMP, "{\"a\": 1,}", "E:JSON parse error, expecting value\n"},
    {QMP, "{ \"execute\": }", "E:JSON parse error, expecting value\n"},
    {QMP, "{1: 2}", "E:JSON parse error, key is not a string in object\n"},
    {QMP, "{[1, 2]: 3}",
     "E:JSON parse error, key is not a string in object\n"},
    {QMP, "{[1 2]: 3}", "E:JSON parse error, expected separator in list\n"},
    {QMP, "{tru: 3}", "E:JSON parse error, invalid keyword 'tru'\n"},
    {QMP, "{\"a\":[}]", "E:JSON parse error, expecting value\n"},
    {QMP, "{\"a\":[1,2]", "E:JSON parse error, premature EOI\n"},
    {QMP, "\"\\x\"", "E:JSON parse error, invalid escape sequence in string\n"},
    {QMP, "\"\\u12\"",
     "E:JSON parse error, \\u12\" is not a valid Unicode character\n"},
    {QMP, "\"\\ud800\"",
     "E:JSON parse error, \\ud800 is not a valid Unicode character\n"},
    {QMP, "\"\\ud800\\u0041\"",
     "E:JSON parse error, \\ud800 is not a valid Unicode character\n"},
    {QMP, "\"\\udc00\"",
     "E:JSON parse error, \\udc00 is not a valid Unicode character\n"},
    {QMP, "\"\\uffff\"",
     "E:JSON parse error, \\uffff is not a valid Unicode character\n"},
    {QMP, "\"\xef\xbf\xbf\"",
     "E:JSON parse error, invalid UTF-8 sequence in string\n"},
    {QMP, "\"\xc3\"", "E:JSON parse error, invalid UTF-8 sequence in string\n"},
    {QMP, "\"\xed\xa0\x80\"",
     "E:JSON parse error, invalid UTF-8 sequence in string\n"},

    /* lexical errors and recovery */
    {QMP, "%s", "E:JSON parse error, stray '%'\n"},
    {QMP, "01", "E:JSON parse error, stray '01'\n"},
    {QMP, "-}", "E:JSON parse error, stray '-}'\n"},
    {QMP, "1.}", "E:JSON parse error, stray '1.}'\n"},
    {QMP, "1e+x 2 ", "E:JSON parse error, stray '1e+x'\n"},
    {QMP, "NULL null", "E:JSON parse error, stray 'N'\n"},
    {QMP, "truex true1 ",
     "E:JSON parse error, invalid keyword 'truex'\nV:true\nV:1\n"},
    {QMP, "{\"execute\": @ \"query-status\", \"id\": 1}",
     "E:JSON parse error, stray '@'\n"
     "E:JSON parse error, expecting value\n"
     "V:\"id\"\n"
     "E:JSON parse error, expecting value\n"
     "V:1\n"
     "E:JSON parse error, expecting value\n"},
    {QMP, "\"a\x01\" 7 ", "E:JSON parse error, stray '\"a\\x01'\n"},
    {QMP, "\"a\nb\"", "E:JSON parse error, stray '\"a\\x0A'\n"},
    {QMP, "\x00\x01\xff\xfe garbage \x7f\n{}",
     "E:JSON parse error, stray ''\n"
     "E:JSON parse error, stray '\\x01'\n"
     "E:JSON parse error, stray '\\xFF'\n"
     "E:JSON parse error, stray '\\xFE'\n"
     "V:{}\n"},
    {QMP, "{\"execute\":\"query-\xff\xfe\"}",
     "E:JSON parse error, stray '\"query-\\xFF'\n"
     "E:JSON parse error, stray '\\xFE'\n"
     "E:JSON parse error, expecting value\n"},
    {QMP, "{\"a\": [1, @ 2]} [3]",
     "E:JSON parse error, stray '@'\n"
     "E:JSON parse error, expecting value\n"
     "E:JSON parse error, expecting value\n"
     "V:[3]\n"},
    {QMP, "{\"a\" 1 @ }", "E:JSON parse error, stray '@'\n"
                          "E:JSON parse error, expecting value\n"},
    {QMP, "\"abc", "E:JSON parse error, stray '\"abc'\n"},
    /* a stray error drops the tokens before it: no "premature EOI" */
    {QMP, "[1, -", "E:JSON parse error, stray '-'\n"},

    /* limits (small ones, so the tests are quick) */
    {QMP, "[[[1]]] [[[[1]]]]",
     "V:[[[1]]]\n"
     "E:JSON nesting depth limit exceeded\n"
     "V:1\n"
     "E:JSON parse error, expecting value\n"
     "E:JSON parse error, expecting value\n"
     "E:JSON parse error, expecting value\n"
     "E:JSON parse error, expecting value\n",
     0, 0, 3},
    {QMP, "[1,2]", "E:JSON token count limit exceeded\n"
                   "E:JSON parse error, expecting value\n",
     0, 3, 0},
    {QMP, "[\"0123\"] \"0123456789abc\"",
     "V:[\"0123\"]\n"
     "E:JSON token size limit exceeded\n"
     "E:JSON parse error, invalid keyword 'abc'\n"
     "E:JSON parse error, stray '\"'\n",
     10, 0, 0},
    {QMP, "[\"abcdefgh\"]", "E:JSON token size limit exceeded\n"
                            "E:JSON parse error, expecting value\n",
     10, 0, 0},

    /* strict mode */
    {STRICT, "{\"a\": [1, 2.5, \"x\"]}", "V:{\"a\": [1, 2.5, \"x\"]}\n"},
    {STRICT, "'a'", "E:JSON parse error, stray '''\n"},
    {STRICT, "\"\\'\"", "E:JSON parse error, invalid escape sequence in string\n"},
    {STRICT, "\"\\uffff\"", "V:\"\\uFFFF\"\n"},
    {STRICT, "\"\xef\xbf\xbf\"", "V:\"\\uFFFF\"\n"},
    {STRICT, "\"\xc0\x80\"",
     "E:JSON parse error, invalid UTF-8 sequence in string\n"},
    {STRICT, "\"\xf4\x90\x80\x80\"",
     "E:JSON parse error, invalid UTF-8 sequence in string\n"},
};

static qk_json_parser_config config_of(const tcase *c)
{
    return (qk_json_parser_config){c->mode, c->max_size, c->max_count,
                                   c->max_depth};
}

static size_t case_len(const tcase *c)
{
    /* Inputs may hold NUL bytes; the garbage case starts with one. */
    if (c->in[0] == 0)
        return 1 + strlen(c->in + 1) + 0;
    return strlen(c->in);
}

static void test_transcripts(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tcase *c = &cases[i];
        qk_json_parser_config cfg = config_of(c);
        size_t n = case_len(c);
        char *got = tr_run(&cfg, c->in, n, 0, 0, true);
        if (strcmp(got, c->want) != 0) {
            print_error("case %zu: input %s\n--- want\n%s--- got\n%s\n", i,
                        c->in, c->want, got);
            failures++;
        }
        qk_free(got);
    }
    assert_int_equal(failures, 0);
}

static void test_every_split(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tcase *c = &cases[i];
        qk_json_parser_config cfg = config_of(c);
        size_t n = case_len(c);
        char *whole = tr_run(&cfg, c->in, n, 0, 0, true);
        char *bytes = tr_run(&cfg, c->in, n, 1, 0, true);
        if (strcmp(whole, bytes) != 0) {
            print_error("case %zu byte-at-a-time differs:\n%s---\n%s", i,
                        whole, bytes);
            failures++;
        }
        for (size_t k = 1; k < n; k++) {
            char *split = tr_run(&cfg, c->in, n, 0, k, true);
            if (strcmp(whole, split) != 0) {
                print_error("case %zu split at %zu differs:\n%s---\n%s", i, k,
                            whole, split);
                failures++;
            }
            qk_free(split);
        }
        qk_free(whole);
        qk_free(bytes);
    }
    assert_int_equal(failures, 0);
}

/* QEMU's own limits: 1024 levels pass, 1025 do not (case 20/21 of the
 * wire corpus), and the rest of the oversized text is parsed as new input. */
static void test_default_nesting(void **state)
{
    (void)state;
    char in[2 * 1025 + 1];
    for (int depth = 1024; depth <= 1025; depth++) {
        memset(in, '[', (size_t)depth);
        memset(in + depth, ']', (size_t)depth);
        char *got = tr_run(NULL, in, 2 * (size_t)depth, 0, 0, true);
        if (depth == 1024) {
            assert_int_equal(strncmp(got, "V:[[[", 5), 0);
            assert_non_null(strstr(got, "]]]\n"));
            assert_null(strchr(got, 'E'));
        } else {
            const char *first = "E:JSON nesting depth limit exceeded\n";
            assert_int_equal(strncmp(got, first, strlen(first)), 0);
            size_t lines = 0;
            for (char *s = got; *s; s++)
                lines += *s == '\n';
            assert_int_equal(lines, 1 + 1025);
        }
        qk_free(got);
    }
}

static void test_error_position(void **state)
{
    (void)state;
    qk_json_error e;
    const char *in = "[1,\n  2,\n  x]";
    qk_json *v = qk_json_parse(in, strlen(in), QK_JSON_STRICT, &e);
    assert_null(v);
    assert_int_equal(e.code, QK_ERR_PARSE);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 3);
    assert_int_equal(e.offset, 11);
    assert_string_equal(e.message, "JSON parse error, invalid keyword 'x'");

    in = "{\"a\": 1}\n  @";
    v = qk_json_parse(in, strlen(in), QK_JSON_QMP, &e);
    assert_null(v);
    assert_string_equal(e.message, "Expecting at most one JSON value");
}

/* Errors and their positions, for a stream fed with the given step (0:
 * whole), as "line:column:offset message" lines. */
static char *positions(const char *in, size_t step)
{
    qk_buf out = QK_BUF_INIT;
    qk_json_parser *p = qk_json_parser_new(NULL);
    size_t n = strlen(in), pos = 0;
    while (pos < n) {
        size_t len = step && n - pos > step ? step : n - pos, used = 0;
        qk_json *v = NULL;
        qk_json_error e;
        int rc = qk_json_parser_feed(p, in + pos, len, &used, &v, &e);
        pos += used;
        if (rc == QK_JSON_ERROR)
            qk_buf_printf(&out, "%u:%u:%zu %s\n", e.line, e.column, e.offset,
                          e.message);
        else if (rc == QK_JSON_VALUE)
            qk_buf_printf(&out, "value at %zu\n", pos);
        qk_json_unref(v);
    }
    qk_json_parser_free(p);
    qk_buf_append(&out, "", 0);
    return qk_buf_steal(&out, NULL);
}

/* Messages collected from small chunks and read at their end (or handed
 * back to the exact path) report the same positions as whole input. */
static void test_positions_any_chunking(void **state)
{
    (void)state;
    static const char *const ins[] = {
        "{\"a\": [1,\n  2,\n  x]}\n{\"b\":\n 1 \"c\": 2}",
        "[1,\n {\"k\": \"v\"},\n @ 3]\n[\"ok\"]",
        "{\"x\": 1, \"x\": 2}\n  {\"y\": [\n\n 01]}",
        "[[1]\n, {\"a\": \"\\u12\"}] {}",
    };
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++) {
        char *whole = positions(ins[i], 0);
        for (size_t step = 1; step <= 7; step++) {
            char *got = positions(ins[i], step);
            assert_string_equal(whole, got);
            qk_free(got);
        }
        qk_free(whole);
    }
}

static void test_one_shot(void **state)
{
    (void)state;
    qk_json_error e;
    qk_json *v = qk_json_parse(" 12 ", 4, QK_JSON_STRICT, &e);
    int64_t i;
    assert_non_null(v);
    assert_int_equal(qk_json_get_int64(v, &i), 0);
    assert_int_equal(i, 12);
    qk_json_unref(v);

    assert_null(qk_json_parse("", 0, QK_JSON_STRICT, &e));
    assert_string_equal(e.message, "JSON parse error, expecting value");
    assert_null(qk_json_parse("[] []", 5, QK_JSON_STRICT, &e));
    assert_string_equal(e.message, "Expecting at most one JSON value");
    assert_null(qk_json_parse("[", 1, QK_JSON_STRICT, &e));
    assert_string_equal(e.message, "JSON parse error, premature EOI");
    assert_null(qk_json_parse("[1] x", 5, QK_JSON_STRICT, NULL));

    v = qk_json_parse("1e400", 5, QK_JSON_QMP, &e);
    double d;
    assert_non_null(v);
    assert_int_equal(qk_json_get_double(v, &d), 0);
    assert_true(d > 1e308);
    qk_json_unref(v);
}

/* The parser stops after each message and says how much it used, so a
 * caller can stop reading (QMP flow control) without losing bytes. */
static void test_consumed(void **state)
{
    (void)state;
    static const char in[] = "{\"a\":1} [2] 3 ";
    const size_t n = sizeof in - 1;
    /* Each call stops after one message: "3" ends at the space after it,
     * which the next call uses. */
    const struct {
        int rc;
        size_t used;
    } want[] = {{QK_JSON_VALUE, 7}, {QK_JSON_VALUE, 4}, {QK_JSON_VALUE, 2},
                {QK_JSON_MORE, 1}};
    qk_json_parser *p = qk_json_parser_new(NULL);
    size_t off = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t used = 0;
        qk_json *v = NULL;
        int rc = qk_json_parser_feed(p, in + off, n - off, &used, &v, NULL);
        assert_int_equal(rc, want[i].rc);
        assert_int_equal(used, want[i].used);
        qk_json_unref(v);
        off += used;
    }
    assert_int_equal(off, n);
    qk_json_parser_free(p);
}

static void test_reset(void **state)
{
    (void)state;
    int rc;
    qk_json_parser *p = qk_json_parser_new(NULL);
    size_t used;
    qk_json *v;
    rc = qk_json_parser_feed(p, "{\"a\": [1, \"xy", 13, &used, &v,
                                         NULL);
    assert_int_equal(rc, QK_JSON_MORE);
    qk_json_parser_reset(p);
    rc = qk_json_parser_feed(p, "[7]", 3, &used, &v, NULL);
    assert_int_equal(rc, QK_JSON_VALUE);
    assert_int_equal(qk_json_array_size(v), 1);
    qk_json_unref(v);
    qk_json_parser_free(p);
}

/* Memory stays bounded by the limits: a never-ending string is cut at the
 * token size limit and reported, whatever its length. */
static void test_unbounded_string(void **state)
{
    (void)state;
    qk_json_parser_config cfg = {QK_JSON_QMP, 4096, 0, 0};
    qk_json_parser *p = qk_json_parser_new(&cfg);
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    chunk[0] = '"';
    int errors = 0;
    for (int i = 0; i < 1000; i++) {
        size_t pos = 0;
        while (pos < sizeof chunk) {
            size_t used;
            qk_json *v;
            qk_json_error e;
            int rc = qk_json_parser_feed(p, chunk + pos, sizeof chunk - pos,
                                         &used, &v, &e);
            pos += used;
            if (rc == QK_JSON_ERROR)
                errors++;
            qk_json_unref(v);
            if (rc == QK_JSON_MORE)
                break;
        }
    }
    assert_true(errors > 0);
    qk_json_parser_free(p);
}

/* ---- allocation failures ---- */

static const char alloc_doc[] =
    "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", "
    "\"node-name\": \"n\\u00e9\", \"file\": {\"driver\": \"file\", "
    "\"filename\": \"/tmp/x\"}, \"cache\": [1, 2.5, -3, true, null]}, "
    "'id': 'it\\'s'} [1] \"xx";

static int parse_stream_op(void *arg)
{
    size_t step = *(size_t *)arg;
    qk_json_parser *p = qk_json_parser_new(NULL);
    if (!p)
        return -1;
    size_t n = sizeof alloc_doc - 1, pos = 0, values = 0;
    bool oom = false;
    while (pos < n) {
        size_t len = step && n - pos > step ? step : n - pos, off = 0;
        while (off < len) {
            size_t used;
            qk_json *v = NULL;
            int rc = qk_json_parser_feed(p, alloc_doc + pos + off, len - off,
                                         &used, &v, NULL);
            off += used;
            if (rc == QK_JSON_VALUE)
                values++;
            if (rc < 0)
                oom = true;
            qk_json_unref(v);
            if (rc == QK_JSON_MORE)
                break;
        }
        pos += len;
    }
    qk_json *v = NULL;
    while (qk_json_parser_finish(p, &v, NULL) != QK_JSON_MORE)
        qk_json_unref(v);
    qk_json_parser_free(p);
    return !oom && values == 2 ? 0 : -1;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    size_t steps[] = {0, 1, 7};
    for (size_t i = 0; i < 3; i++) {
        long runs = tu_alloc_fail_loop(parse_stream_op, &steps[i]);
        assert_true(runs > 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transcripts),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_default_nesting),
        cmocka_unit_test(test_error_position),
        cmocka_unit_test(test_positions_any_chunking),
        cmocka_unit_test(test_one_shot),
        cmocka_unit_test(test_consumed),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_unbounded_string),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
