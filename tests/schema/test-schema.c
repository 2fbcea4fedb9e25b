/* SPDX-License-Identifier: MIT */
/*
 * Tests of the schema front end through its public interface: QEMU's real
 * schemas check and dump with the expected counts; memory buffers and the
 * include reader; bad input (unreadable files, binary junk, a 100 MB file,
 * 10,000-deep nesting, include loops) gets an error, never a crash; an
 * allocation-failure loop leaks nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "qmpkit/schema-gen.h"
#include "qmpkit/schema.h"
#include "../testutil.h"

static char diag_text[4096];

static void diag(void *opaque, const char *text)
{
    (void)opaque;
    snprintf(diag_text, sizeof diag_text, "%s", text);
}

static int compile_buf(const char *src, size_t len, qk_schema **out)
{
    qk_schema *s = qk_schema_new();
    assert_non_null(s);
    qk_schema_set_diag(s, diag, NULL);
    diag_text[0] = 0;
    int r = qk_schema_compile_buffer(s, "mem.json", src, len);
    if (out)
        *out = s;
    else
        qk_schema_free(s);
    return r;
}

/* ---- real schemas ---- */

static size_t count_lines(const char *dump, const char *prefix)
{
    size_t n = 0, pl = strlen(prefix);
    for (const char *p = dump; *p;) {
        if (!strncmp(p, "doc ", 4))
            break; /* entity part only */
        if (!strncmp(p, prefix, pl))
            n++;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

static void test_real_schemas(void **state)
{
    (void)state;
    static const char *const files[] = {
        "reference/qemu/schema/qapi/qapi-schema.json",
        "reference/qemu/schema/qga/qapi-schema.json",
        "reference/qemu/schema/storage-daemon/qapi/qapi-schema.json",
    };
    for (size_t i = 0; i < 3; i++) {
        const char *path = tu_shared_path(files[i]);
        if (!path) {
            printf("skip: %s absent\n", files[i]);
            continue;
        }
        qk_schema *s = qk_schema_new();
        qk_schema_set_diag(s, diag, NULL);
        diag_text[0] = 0;
        int r = qk_schema_compile_file(s, path);
        if (r)
            fprintf(stderr, "%s", diag_text);
        assert_int_equal(r, 0);
        if (i == 0) {
            qk_buf b = QK_BUF_INIT;
            assert_int_equal(qk_schema_dump(s, &b), 0);
            assert_int_equal(count_lines(b.data, "command "), 243);
            assert_int_equal(count_lines(b.data, "event "), 57);
            assert_int_equal(count_lines(b.data, "enum "), 183);
            assert_int_equal(count_lines(b.data, "alternate "), 6);
            assert_int_equal(count_lines(b.data, "module "), 47);
            qk_buf_free(&b);
            assert_int_equal(qk_schema_count(s, QK_SCHEMA_COMMAND), 243);
            assert_int_equal(qk_schema_count(s, QK_SCHEMA_EVENT), 57);
            /* the walk sees definition order, builtins first */
            const qk_schema_entity *e = qk_schema_first(s);
            assert_string_equal(qk_schema_entity_name(e), "str");
            assert_string_equal(qk_schema_entity_module(e), "./builtin");
        }
        qk_schema_free(s);
    }
}

static void test_walk(void **state)
{
    (void)state;
    const char *src =
        "{ 'enum': 'Color', 'data': ['red', 'green'] }\n"
        "{ 'struct': 'Base', 'data': { 'c': 'Color' } }\n"
        "{ 'struct': 'Red', 'data': { 'x': 'int' } }\n"
        "{ 'union': 'Un', 'base': 'Base', 'discriminator': 'c',\n"
        "  'data': { 'red': 'Red' },\n"
        "  'if': { 'all': [ 'A', { 'not': 'B' }, { 'any': ['C', 'D'] } ] } }\n"
        "{ 'command': 'paint', 'data': { '*c': ['Color'] },\n"
        "  'returns': 'Base', 'allow-oob': true, 'features': ['f1'] }\n";
    qk_schema *s;
    assert_int_equal(compile_buf(src, strlen(src), &s), 0);
    const qk_schema_entity *u = qk_schema_lookup(s, "Un");
    assert_non_null(u);
    assert_string_equal(qk_schema_entity_meta(u), "union");
    assert_string_equal(qk_schema_entity_name(qk_schema_entity_base(u)),
                        "Base");
    assert_string_equal(qk_schema_entity_tag(u), "c");
    assert_int_equal(qk_schema_member_count(u, QK_SCHEMA_BRANCHES), 2);
    assert_string_equal(qk_schema_member_name(u, QK_SCHEMA_BRANCHES, 1),
                        "green");
    assert_string_equal(qk_schema_entity_name(qk_schema_member_type(
                            u, QK_SCHEMA_BRANCHES, 1)),
                        "q_empty");
    qk_buf b = QK_BUF_INIT;
    assert_int_equal(qk_schema_entity_if_c(u, &b), 1);
    assert_string_equal(b.data, "defined(A) && !defined(B) && "
                                "(defined(C) || defined(D))");
    qk_buf_free(&b);
    const qk_schema_entity *c = qk_schema_lookup(s, "paint");
    assert_int_equal(qk_schema_entity_flags(c),
                     QK_SCHEMA_FLAG_GEN | QK_SCHEMA_FLAG_SUCCESS_RESPONSE |
                         QK_SCHEMA_FLAG_ALLOW_OOB);
    const qk_schema_entity *arg = qk_schema_entity_arg_type(c);
    assert_string_equal(qk_schema_entity_name(arg), "q_obj_paint-arg");
    assert_true(qk_schema_entity_is_implicit(arg));
    assert_true(qk_schema_member_optional(arg, QK_SCHEMA_MEMBERS, 0));
    const qk_schema_entity *arr = qk_schema_member_type(arg,
                                                        QK_SCHEMA_MEMBERS, 0);
    assert_string_equal(qk_schema_entity_meta(arr), "array");
    assert_string_equal(qk_schema_entity_name(qk_schema_entity_element(arr)),
                        "Color");
    assert_string_equal(qk_schema_entity_name(qk_schema_entity_ret_type(c)),
                        "Base");
    assert_string_equal(qk_schema_member_name(c, QK_SCHEMA_FEATURES, 0), "f1");
    assert_null(qk_schema_lookup(s, "nope"));
    qk_schema_free(s);
}

static void test_drop_doc_text(void **state)
{
    (void)state;
    const char *good = "##\n# @Color:\n#\n# Colors.\n#\n# @red: red\n##\n"
                       "{ 'enum': 'Color', 'data': ['red'] }\n";
    const char *bad = "##\n# @Color:\n#\n# Since:\n##\n"
                      "{ 'enum': 'Color', 'data': [] }\n";
    qk_schema *s = qk_schema_new();
    qk_schema_set_keep_doc_text(s, false);
    assert_int_equal(qk_schema_compile_buffer(s, "m.json", good,
                                              strlen(good)), 0);
    qk_buf b = QK_BUF_INIT;
    assert_int_equal(qk_schema_dump(s, &b), QK_ERR_STATE);
    qk_schema_free(s);
    s = qk_schema_new();
    qk_schema_set_diag(s, diag, NULL);
    qk_schema_set_keep_doc_text(s, false);
    assert_int_equal(qk_schema_compile_buffer(s, "m.json", bad, strlen(bad)),
                     QK_ERR_PARSE);
    assert_string_equal(diag_text, "m.json:4: text required after "
                                   "'Since:'\n");
    qk_schema_free(s);
}

/* ---- buffers and readers ---- */

static void test_buffer_ok(void **state)
{
    (void)state;
    const char *src = "{ 'enum': 'Color', 'data': ['red', 'green'] }\n"
                      "{ 'command': 'paint', 'data': {'c': 'Color'} }";
    qk_schema *s;
    assert_int_equal(compile_buf(src, strlen(src), &s), 0);
    qk_buf b = QK_BUF_INIT;
    assert_int_equal(qk_schema_dump(s, &b), 0);
    assert_non_null(strstr(b.data, "module mem.json\nenum Color\n"
                                   "    member red\n    member green\n"
                                   "object q_obj_paint-arg\n"));
    qk_buf_free(&b);
    /* a context compiles once */
    assert_int_equal(qk_schema_compile_buffer(s, "x.json", "", 0),
                     QK_ERR_STATE);
    qk_schema_free(s);
}

static void test_buffer_error(void **state)
{
    (void)state;
    const char *src = "{ 'struct': 'Foo', 'data': { 'a': 'Nope' } }";
    qk_schema *s;
    assert_int_equal(compile_buf(src, strlen(src), &s), QK_ERR_PARSE);
    assert_string_equal(diag_text, "mem.json: In struct 'Foo':\n"
                                   "mem.json:1: member 'a' uses unknown "
                                   "type 'Nope'\n");
    assert_string_equal(qk_schema_last_error(s), diag_text);
    qk_buf b = QK_BUF_INIT;
    assert_int_equal(qk_schema_dump(s, &b), QK_ERR_STATE);
    qk_schema_free(s);
}

static int loop_reader(void *opaque, const char *path, char **data,
                       size_t *len)
{
    (void)opaque;
    const char *text;
    if (!strcmp(path, "a.json"))
        text = "{ 'include': 'b.json' }\n";
    else if (!strcmp(path, "b.json"))
        text = "{ 'include': 'mem.json' }\n";
    else
        return -ENOENT;
    qk_buf b = QK_BUF_INIT;
    if (qk_buf_append_str(&b, text))
        return -ENOMEM;
    *data = qk_buf_steal(&b, len);
    return 0;
}

static void test_include_loop(void **state)
{
    (void)state;
    qk_schema *s = qk_schema_new();
    qk_schema_set_diag(s, diag, NULL);
    qk_schema_set_reader(s, loop_reader, NULL);
    const char *src = "{ 'include': 'a.json' }\n{ 'include': 'zz.json' }\n";
    assert_int_equal(qk_schema_compile_buffer(s, "mem.json", src,
                                              strlen(src)),
                     QK_ERR_PARSE);
    assert_string_equal(diag_text, "In file included from mem.json:1:\n"
                                   "In file included from a.json:1:\n"
                                   "b.json:1: inclusion loop for mem.json\n");
    qk_schema_free(s);
}

static void test_include_missing(void **state)
{
    (void)state;
    qk_schema *s = qk_schema_new();
    qk_schema_set_diag(s, diag, NULL);
    qk_schema_set_reader(s, loop_reader, NULL);
    const char *src = "\n{ 'include': 'zz.json' }\n";
    assert_int_equal(qk_schema_compile_buffer(s, "mem.json", src,
                                              strlen(src)),
                     QK_ERR_PARSE);
    assert_string_equal(diag_text, "mem.json:2: can't read include file "
                                   "'zz.json': No such file or directory\n");
    qk_schema_free(s);
}

/* ---- bad input ---- */

static void test_unreadable(void **state)
{
    (void)state;
    qk_schema *s = qk_schema_new();
    qk_schema_set_diag(s, diag, NULL);
    assert_int_equal(qk_schema_compile_file(s, "/nonexistent/x.json"),
                     QK_ERR_PARSE);
    assert_string_equal(diag_text, "can't read schema file "
                                   "'/nonexistent/x.json': No such file or "
                                   "directory\n");
    qk_schema_free(s);
    s = qk_schema_new();
    qk_schema_set_diag(s, diag, NULL);
    assert_int_equal(qk_schema_compile_file(s, "/"), QK_ERR_PARSE);
    assert_string_equal(diag_text, "can't read schema file '/': Is a "
                                   "directory\n");
    qk_schema_free(s);
}

static void test_binary_junk(void **state)
{
    (void)state;
    unsigned char junk[4096];
    uint32_t x = 12345;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof junk; i++) {
            x = x * 1103515245u + 12345u;
            junk[i] = (unsigned char)(x >> 16);
        }
        size_t len = (size_t)(x % sizeof junk);
        int r = compile_buf((const char *)junk, len, NULL);
        assert_true(r == 0 || r == QK_ERR_PARSE);
    }
    /* NUL bytes and invalid UTF-8 */
    static const char nul[] = "{ 'enum': 'E\0', 'data': [] }";
    assert_int_equal(compile_buf(nul, sizeof nul - 1, NULL), QK_ERR_PARSE);
    assert_string_equal(diag_text, "mem.json:1:11: funny character in "
                                   "string\n");
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 10000;
    char *src = malloc(depth * 2 + 1);
    memset(src, '[', depth);
    memset(src + depth, ']', depth);
    src[2 * depth] = 0;
    assert_int_equal(compile_buf(src, 2 * depth, NULL), QK_ERR_PARSE);
    assert_non_null(strstr(diag_text, "nesting too deep"));
    /* deep conditions too */
    qk_buf b = QK_BUF_INIT;
    qk_buf_append_str(&b, "{ 'struct': 'Foo', 'data': {}, 'if': ");
    for (size_t i = 0; i < depth; i++)
        qk_buf_append_str(&b, "{'not': ");
    qk_buf_append_str(&b, "'X'");
    for (size_t i = 0; i < depth; i++)
        qk_buf_append_char(&b, '}');
    qk_buf_append_str(&b, " }\n");
    assert_int_equal(compile_buf(b.data, b.len, NULL), QK_ERR_PARSE);
    assert_non_null(strstr(diag_text, "nesting too deep"));
    qk_buf_free(&b);
    free(src);
}

static void test_huge_file(void **state)
{
    (void)state;
    /* 100 MB: comments, blank space and definitions, then an error at the
     * end */
    size_t target = 100u << 20;
    char *src = malloc(target + 4096);
    size_t n = 0;
    unsigned i = 0;
    while (n < target) {
        if (i % 1000 == 0)
            n += (size_t)sprintf(src + n,
                                 "{ 'enum': 'Enum%u', 'data': ['a', 'b'] }\n",
                                 i);
        n += (size_t)sprintf(src + n, "# a comment line that is ignored %u\n"
                                      "        \t  \n", i++);
    }
    n += (size_t)sprintf(src + n, "{ 'enum': 'Enum0', 'data': [] }\n");
    assert_int_equal(compile_buf(src, n, NULL), QK_ERR_PARSE);
    assert_non_null(strstr(diag_text, "'Enum0' is already defined"));
    /* one huge object: duplicate key detection must not be quadratic */
    n = 0;
    n += (size_t)sprintf(src + n, "{ ");
    for (i = 0; n < (20u << 20); i++)
        n += (size_t)sprintf(src + n, "'k%u': true, ", i);
    n += (size_t)sprintf(src + n, "'k7': true }\n");
    assert_int_equal(compile_buf(src, n, NULL), QK_ERR_PARSE);
    assert_non_null(strstr(diag_text, "duplicate key 'k7'"));
    free(src);
}

static void test_huge_definitions(void **state)
{
    (void)state;
    /* One enum, struct, union and doc block of 100,000 names each: every
     * check must stay (near) linear. */
    size_t k = 100000;
    qk_buf b = QK_BUF_INIT;
    qk_buf_append_str(&b, "{ 'pragma': { 'member-name-exceptions': [");
    for (size_t i = 0; i < k; i++)
        qk_buf_printf(&b, "%s'Name%zu'", i ? ", " : "", i);
    qk_buf_append_str(&b, "] } }\n{ 'enum': 'Big', 'data': [");
    for (size_t i = 0; i < k; i++)
        qk_buf_printf(&b, "%s'v%zu'", i ? ", " : "", i);
    qk_buf_append_str(&b, "] }\n##\n# @Wide:\n#\n");
    for (size_t i = 0; i < k; i++)
        qk_buf_printf(&b, "# @m%zu: member\n", i);
    qk_buf_append_str(&b, "##\n{ 'struct': 'Wide', 'data': {");
    for (size_t i = 0; i < k; i++)
        qk_buf_printf(&b, "%s'm%zu': 'int'", i ? ", " : "", i);
    qk_buf_append_str(&b, "} }\n{ 'struct': 'Br', 'data': { 'x': 'int' } }\n"
                          "{ 'union': 'Uni', 'base': { 'kind': 'Big' }, "
                          "'discriminator': 'kind', 'data': {");
    for (size_t i = 0; i < k; i += 2)
        qk_buf_printf(&b, "%s'v%zu': 'Br'", i ? ", " : "", i);
    qk_buf_append_str(&b, "} }\n{ 'enum': 'Dup', 'data': [");
    for (size_t i = 0; i < k; i++)
        qk_buf_printf(&b, "'d%zu', ", i);
    qk_buf_append_str(&b, "'d7'] }\n");
    assert_int_equal(compile_buf(b.data, b.len, NULL), QK_ERR_PARSE);
    assert_non_null(strstr(diag_text, "value 'd7' collides with value 'd7'"));
    qk_buf_free(&b);
}

static int chain_reader(void *opaque, const char *path, char **data,
                        size_t *len)
{
    (void)opaque;
    unsigned k = 0;
    if (sscanf(path, "f%u.json", &k) != 1)
        return -ENOENT;
    qk_buf b = QK_BUF_INIT;
    if (qk_buf_printf(&b, "{ 'include': 'f%u.json' }\n", k + 1))
        return -ENOMEM;
    *data = qk_buf_steal(&b, len);
    return 0;
}

static void test_deep_includes(void **state)
{
    (void)state;
    qk_schema *s = qk_schema_new();
    qk_schema_set_diag(s, diag, NULL);
    qk_schema_set_reader(s, chain_reader, NULL);
    const char *src = "{ 'include': 'f1.json' }\n";
    assert_int_equal(qk_schema_compile_buffer(s, "f0.json", src,
                                              strlen(src)),
                     QK_ERR_PARSE);
    assert_non_null(strstr(qk_schema_last_error(s),
                           "f200.json:1: includes nested too deeply\n"));
    qk_schema_free(s);
}

/* ---- allocation failure ---- */

static const char small_src[] =
        "##\n# @Color:\n#\n# A color.\n#\n# @red: red\n# @green: green\n##\n"
        "{ 'enum': 'Color', 'data': ['red', 'green'] }\n"
        "{ 'union': 'Un', 'base': {'c': 'Color'}, 'discriminator': 'c',\n"
        "  'data': {'red': 'St'} }\n"
        "{ 'struct': 'St', 'data': {'*x': ['int'], 'y': 'Color'} }\n"
        "{ 'alternate': 'Alt', 'data': {'s': 'St', 'i': 'int'} }\n"
        "{ 'command': 'cmd', 'data': {'a': 'Alt'}, 'returns': ['St'] }\n"
        "{ 'event': 'EV', 'data': {'un': 'Un'}, 'if': {'not': 'X'} }\n";

static int count_file(void *opaque, const char *name, const char *data,
                      size_t len)
{
    (void)name;
    (void)data;
    (void)len;
    ++*(int *)opaque;
    return 0;
}

/* Compiles the small schema, then dumps it, or, when FILES is not NULL,
 * runs every back end on it (the memo tables, the formats' pieces, the
 * pool, the file buffers) and counts the files handed over. */
static int compile_small(void *files)
{
    qk_schema *s = qk_schema_new();
    if (!s)
        return -1;
    int r = qk_schema_compile_buffer(s, "m.json", small_src,
                                     sizeof small_src - 1);
    if (r == 0 && !files) {
        qk_buf b = QK_BUF_INIT;
        r = qk_schema_dump(s, &b);
        qk_buf_free(&b);
    } else if (r == 0) {
        qk_gen_options opt = {"p-", true, false};
        *(int *)files = 0;
        r = qk_schema_generate(s, &opt, count_file, files);
    }
    qk_schema_free(s);
    return r;
}

/* The small schema (SRC NULL) or the file SRC (nested includes: the
 * source texts' mappings are live when an allocation fails) compiled as a
 * checker, doc text not kept: another path through the doc parser and
 * checks. */
static int check_only(void *src)
{
    qk_schema *s = qk_schema_new();
    if (!s)
        return -1;
    qk_schema_set_keep_doc_text(s, false);
    int r = src ? qk_schema_compile_file(s, src)
                : qk_schema_compile_buffer(s, "m.json", small_src,
                                           sizeof small_src - 1);
    qk_schema_free(s);
    return r;
}

static void test_alloc_failure(void **state)
{
    (void)state;
    assert_int_equal(compile_small(NULL), 0);
    long runs = tu_alloc_fail_loop(compile_small, NULL);
    assert_true(runs > 1);
    assert_int_equal(check_only(NULL), 0);
    runs = tu_alloc_fail_loop(check_only, NULL);
    assert_true(runs > 1);
    const char *path =
        tu_shared_path("conformance/qapi-schema/qapi-schema-test.json");
    if (path) {
        assert_int_equal(check_only((void *)path), 0);
        runs = tu_alloc_fail_loop(check_only, (void *)path);
        assert_true(runs > 1);
    }
}

/* An allocation failure while generating is reported, never a crash or a
 * leak. */
static void test_generate_alloc_failure(void **state)
{
    (void)state;
    int files = 0;
    assert_int_equal(compile_small(&files), 0);
    assert_true(files > 10);
    long runs = tu_alloc_fail_loop(compile_small, &files);
    assert_true(runs > 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_schemas),
        cmocka_unit_test(test_buffer_ok),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_drop_doc_text),
        cmocka_unit_test(test_generate_alloc_failure),
        cmocka_unit_test(test_buffer_error),
        cmocka_unit_test(test_include_loop),
        cmocka_unit_test(test_include_missing),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_binary_junk),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_huge_file),
        cmocka_unit_test(test_deep_includes),
        cmocka_unit_test(test_huge_definitions),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
