/* SPDX-License-Identifier: MIT */
/*
 * The server role against QEMU 7.2 (../shared/conformance/qemu-7.2-wire):
 * a server with stand-ins for the commands the corpus uses, configured
 * with QEMU's version and introspection, gets each case after the
 * greeting and the negotiation its name asks for (NN-: plain, pre-: none,
 * oob-: with "enable": ["oob"]), and must answer what QEMU answered,
 * message for message, compared as JSON values. Each case is also replayed
 * with its input cut at every byte boundary.
 *
 * Documented differences (QEMU defects we do not copy): case 28, where
 * QEMU writes the id 1e400 as `inf` (not JSON; we write 1e999), and
 * pre-02, where QEMU names the parameter 'null' instead of 'enable[0]'.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../testutil.h"
#include "proto-util.h"

static const char *dir;
static qk_json *version, *schema, *greeting;
static qk_command_table *table;

static qk_json *load_json(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    if (!text)
        return NULL;
    qk_json *v = qk_json_parse(text, len, QK_JSON_QMP, NULL);
    free(text);
    return v;
}

static int setup(void **state)
{
    (void)state;
    const char *p = tu_shared_path("conformance/qemu-7.2-wire/"
                                   "qemu-7.2-greeting.raw");
    if (!p)
        return 0;
    static char d[4096];
    snprintf(d, sizeof d, "%s", p);
    *strrchr(d, '/') = 0;
    dir = d;
    greeting = load_json("qemu-7.2-greeting.raw");
    qk_json *sc = load_json("qemu-7.2-query-qmp-schema.json");
    assert_non_null(greeting);
    assert_non_null(sc);
    version = qk_json_ref(qk_json_object_get(
        qk_json_object_get(greeting, "QMP"), "version"));
    schema = qk_json_ref(qk_json_object_get(sc, "return"));
    qk_json_unref(sc);
    table = pu_table();
    assert_non_null(table);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    qk_json_unref(version);
    qk_json_unref(schema);
    qk_json_unref(greeting);
    qk_command_table_unref(table);
    return 0;
}

static qk_session *new_server(unsigned flags)
{
    qk_server_config cfg = {table, flags, version, schema, 0, 0};
    qk_session *s;
    assert_int_equal(qk_session_new_server(&cfg, &s), 0);
    return s;
}

/* A server in the state a case's prefix asks for; output drained. */
static qk_session *prepared_server(const char *stem)
{
    qk_session *s = new_server(QK_SERVER_OOB);
    qk_buf out = QK_BUF_INIT;
    pu_drain(s, &out);
    qk_json *g = qk_json_parse(out.data, out.len, QK_JSON_STRICT, NULL);
    assert_true(qk_json_equal(g, greeting));
    qk_json_unref(g);
    assert_int_equal(out.len >= 2 && out.data[out.len - 2] == '\r' &&
                         out.data[out.len - 1] == '\n',
                     1);
    qk_buf_clear(&out);
    const char *caps = NULL;
    if (strncmp(stem, "oob-", 4) == 0)
        caps = "{\"execute\":\"qmp_capabilities\","
               "\"arguments\":{\"enable\":[\"oob\"]}}\n";
    else if (strncmp(stem, "pre-", 4) != 0)
        caps = "{\"execute\":\"qmp_capabilities\"}\n";
    if (caps) {
        assert_int_equal(
            pu_run_server(s, caps, strlen(caps), NULL, 0, &out), 0);
        assert_string_equal(out.data, "{\"return\": {}}\r\n");
    }
    qk_buf_free(&out);
    return s;
}

static bool is_case(const char *stem, const char *prefix)
{
    return strncmp(stem, prefix, strlen(prefix)) == 0;
}

/* Compares our messages with QEMU's; returns the number of mismatches. */
static int compare(const char *stem, const pu_msgs *ours,
                   const pu_msgs *qemu, size_t cut)
{
    int bad = 0;
    if (ours->n != qemu->n) {
        print_error("%s (cut %zu): %zu messages, QEMU sent %zu\n", stem, cut,
                    ours->n, qemu->n);
        return 1;
    }
    for (size_t i = 0; i < ours->n; i++) {
        const qk_json *a = ours->v[i], *b = qemu->v[i];
        if (!a) {
            print_error("%s: message %zu is not JSON\n", stem, i);
            bad++;
            continue;
        }
        if (is_case(stem, "28-")) {
            /* QEMU writes `inf`; we write 1e999, i.e. infinity again */
            double d = 0;
            qk_json_get_double(qk_json_object_get(a, "id"), &d);
            if (!isinf(d) || !qk_json_equal(qk_json_object_get(a, "return"),
                                            version)) {
                print_error("%s: unexpected reply\n", stem);
                bad++;
            }
            continue;
        }
        qk_json *want = qk_json_ref((qk_json *)b);
        if (is_case(stem, "pre-02-")) {
            qk_json_unref(want);
            want = qk_json_pack("{s:{s:s, s:s}}", "error", "class",
                                "GenericError", "desc",
                                "Parameter 'enable[0]' does not accept "
                                "value 'bogus'");
        }
        if (!qk_json_equal(a, want)) {
            char *x = pu_str(a), *y = pu_str(want);
            print_error("%s (cut %zu) message %zu:\n  ours: %s\n  qemu: %s\n",
                        stem, cut, i, x, y);
            free(x);
            free(y);
            bad++;
        }
        qk_json_unref(want);
    }
    return bad;
}

static int run_case(const char *stem, size_t *nreplays)
{
    char path[4096];
    size_t inlen = 0, outlen = 0;
    snprintf(path, sizeof path, "%s/%s.in", dir, stem);
    char *in = tu_read_file(path, &inlen);
    snprintf(path, sizeof path, "%s/%s.qemu-7.2.out", dir, stem);
    char *out = tu_read_file(path, &outlen);
    assert_non_null(in);
    assert_non_null(out);
    pu_msgs qemu = {0};
    pu_split(out, outlen, "\r\n", &qemu);
    int bad = 0;
    /* cut == inlen: whole; otherwise one cut at that offset */
    for (size_t cut = inlen + 1; cut-- > 0;) {
        qk_session *s = prepared_server(stem);
        qk_buf got = QK_BUF_INIT;
        int rc = pu_run_server(s, in, inlen, &cut, cut < inlen, &got);
        if (rc < 0) {
            print_error("%s: run failed: %s\n", stem, qk_strerror(rc));
            bad++;
        }
        if (!pu_ascii(got.data, got.len)) {
            print_error("%s: output not ASCII\n", stem);
            bad++;
        }
        pu_msgs ours = {0};
        pu_split(got.data, got.len, "\r\n", &ours);
        if (ours.bad_framing) {
            print_error("%s: a message does not end in CRLF\n", stem);
            bad++;
        }
        bad += compare(stem, &ours, &qemu, cut);
        pu_msgs_free(&ours);
        qk_buf_free(&got);
        qk_session_free(s);
        (*nreplays)++;
        if (bad)
            break;
    }
    pu_msgs_free(&qemu);
    free(in);
    free(out);
    return bad;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_wire_corpus(void **state)
{
    (void)state;
    if (!dir)
        skip();
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *stems[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 3 && strcmp(e->d_name + l - 3, ".in") == 0)
            stems[n++] = strndup(e->d_name, l - 3);
    }
    closedir(d);
    qsort(stems, n, sizeof *stems, cmp_str);
    int bad = 0;
    size_t replays = 0;
    for (size_t i = 0; i < n; i++) {
        if (run_case(stems[i], &replays))
            bad++;
        free(stems[i]);
    }
    printf("wire corpus: %zu cases, %d failed, %zu replays\n", n, bad,
           replays);
    assert_int_equal(bad, 0);
    assert_true(n >= 38);
}

/* query-commands and query-qmp-schema give the configured answers. */
static void test_builtins(void **state)
{
    (void)state;
    if (!dir)
        skip();
    qk_session *s = prepared_server("01-");
    const char *in = "{\"execute\":\"query-qmp-schema\",\"id\":1}"
                     "{\"execute\":\"query-commands\",\"id\":2}";
    qk_buf got = QK_BUF_INIT;
    assert_int_equal(pu_run_server(s, in, strlen(in), NULL, 0, &got), 0);
    pu_msgs m = {0};
    pu_split(got.data, got.len, "\r\n", &m);
    assert_int_equal(m.n, 2);
    assert_true(qk_json_equal(qk_json_object_get(m.v[0], "return"), schema));
    qk_json *cmds = qk_json_object_get(m.v[1], "return");
    /* reverse registration order, disabled ones left out, built-ins last */
    const char *first = qk_json_string(
        qk_json_object_get(qk_json_array_get(cmds, 0), "name"));
    assert_string_equal(first, "count-fds");
    size_t nc = qk_json_array_size(cmds);
    assert_string_equal(qk_json_string(qk_json_object_get(
                            qk_json_array_get(cmds, nc - 1), "name")),
                        "qmp_capabilities");
    for (size_t i = 0; i < nc; i++)
        assert_string_not_equal(
            qk_json_string(qk_json_object_get(qk_json_array_get(cmds, i),
                                              "name")),
            "off");
    pu_msgs_free(&m);
    qk_buf_free(&got);
    qk_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_corpus),
        cmocka_unit_test(test_builtins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
