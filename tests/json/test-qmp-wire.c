/* SPDX-License-Identifier: MIT */
/*
 * The JSON layer against QEMU 7.2's bytes (../shared/conformance/
 * qemu-7.2-wire): every case's input goes through the QMP-mode streaming
 * parser, whole and one byte at a time. QEMU answers every message it reads
 * with exactly one reply, so the parser's messages line up with the reply
 * lines: each parse error must be QEMU's JSON-layer error with the same
 * text, in the same place, and each value must get a reply that is not a
 * JSON-layer error. Texts are compared after the writer's escaping, which
 * turns invalid UTF-8 into U+FFFD as QEMU's writer does.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qmpkit/json.h"
#include "../testutil.h"

#define MAX_MSGS 4096

typedef struct msg {
    bool error;
    char text[300]; /* the error message, as the writer escapes it */
} msg;

static void escape(const char *s, size_t len, char *out, size_t size)
{
    qk_buf b = QK_BUF_INIT;
    qk_json_write_string(&b, s, len);
    snprintf(out, size, "%s", b.data ? b.data : "");
    qk_buf_free(&b);
}

static size_t parse_input(const char *in, size_t len, size_t step, msg *out)
{
    qk_json_parser *p = qk_json_parser_new(NULL);
    size_t n = 0, pos = 0;
    while (pos < len && n < MAX_MSGS) {
        size_t chunk = step && len - pos > step ? step : len - pos, used;
        qk_json *v;
        qk_json_error e;
        int rc = qk_json_parser_feed(p, in + pos, chunk, &used, &v, &e);
        pos += used;
        if (rc == QK_JSON_VALUE) {
            out[n++].error = false;
            qk_json_unref(v);
        } else if (rc == QK_JSON_ERROR) {
            out[n].error = true;
            escape(e.message, strlen(e.message), out[n].text,
                   sizeof out[n].text);
            n++;
        }
    }
    qk_json_parser_free(p); /* no finish: a QMP server waits for more */
    return n;
}

static int check_case(const char *dir, const char *stem)
{
    char path[8192];
    size_t inlen = 0, outlen = 0;
    snprintf(path, sizeof path, "%s/%s.in", dir, stem);
    char *in = tu_read_file(path, &inlen);
    snprintf(path, sizeof path, "%s/%s.qemu-7.2.out", dir, stem);
    char *out = tu_read_file(path, &outlen);
    if (!in || !out) {
        print_error("%s: unreadable\n", stem);
        free(in);
        free(out);
        return 1;
    }
    static msg whole[MAX_MSGS], bytes[MAX_MSGS];
    int bad = 0;

    size_t n = parse_input(in, inlen, 0, whole);
    size_t nb = parse_input(in, inlen, 1, bytes);
    if (n != nb || memcmp(whole, bytes, n * sizeof *whole) != 0) {
        print_error("%s: byte-at-a-time parse differs\n", stem);
        bad++;
    }

    /* The reply lines, parsed with our own parser. */
    size_t lines = 0;
    for (char *line = out, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        size_t len = next ? (size_t)(next - line) : strlen(line);
        if (next)
            next++;
        qk_json *r = qk_json_parse(line, len, QK_JSON_QMP, NULL);
        if (!r) {
            /* QEMU's defect: case 28 echoes "id": inf, which is not JSON. */
            if (!strstr(line, ": inf")) {
                print_error("%s: unparsable reply line %zu\n", stem, lines);
                bad++;
            }
            lines++;
            continue;
        }
        qk_json *err = qk_json_object_get(r, "error");
        qk_json *desc = err ? qk_json_object_get(err, "desc") : NULL;
        bool json_error = desc && !qk_json_object_get(r, "id") &&
                          !strncmp(qk_json_string(desc), "JSON ", 5);
        if (lines >= n) {
            print_error("%s: QEMU sent reply %zu, we have no message for it\n",
                        stem, lines);
            bad++;
        } else if (json_error != whole[lines].error) {
            print_error("%s: message %zu: QEMU %s, we %s\n", stem, lines,
                        json_error ? "reports a JSON error" : "reads a value",
                        whole[lines].error ? "report an error" : "read a value");
            bad++;
        } else if (json_error) {
            char want[300];
            escape(qk_json_string(desc), qk_json_string_length(desc), want,
                   sizeof want);
            if (strcmp(want, whole[lines].text)) {
                print_error("%s: message %zu: QEMU %s, we %s\n", stem, lines,
                            want, whole[lines].text);
                bad++;
            }
        }
        qk_json_unref(r);
        lines++;
    }
    if (lines < n) {
        print_error("%s: %zu messages but QEMU sent %zu replies\n", stem, n,
                    lines);
        bad++;
    }
    free(in);
    free(out);
    return bad;
}

static void test_wire(void **state)
{
    (void)state;
    const char *g = tu_shared_path("conformance/qemu-7.2-wire/qemu-7.2-greeting.raw");
    if (!g) {
        print_message("qemu-7.2-wire corpus not found (../shared absent): "
                      "skipped\n");
        skip();
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", g);
    *strrchr(dir, '/') = 0;

    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort), cases = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        char *name = ents[i]->d_name;
        size_t len = strlen(name);
        if (len > 3 && !strcmp(name + len - 3, ".in")) {
            name[len - 3] = 0;
            cases++;
            failed += check_case(dir, name) != 0;
        }
        free(ents[i]);
    }
    free(ents);
    print_message("qemu-7.2-wire JSON layer: %d passed, %d failed\n",
                  cases - failed, failed);
    assert_true(cases > 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
