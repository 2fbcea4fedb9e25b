/* SPDX-License-Identifier: MIT */
/*
 * JSONTestSuite (../shared/conformance/json-test-suite/test_parsing) in
 * strict mode: every y_ case is accepted and survives parse -> write ->
 * parse unchanged, every n_ case is rejected, and every i_ case does what
 * docs/json.md says it does. Each case is also parsed through the streaming
 * parser one byte at a time, which must agree with the one-shot parse.
 *
 * QK_JSON_SUITE_PRINT=1 prints the i_ table in docs/json.md's format.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qmpkit/json.h"
#include "../testutil.h"

static const char *suite_dir(void)
{
    static char dir[4096];
    const char *p = tu_shared_path("conformance/json-test-suite/LICENSE");
    if (!p)
        return NULL;
    snprintf(dir, sizeof dir, "%s", p);
    strcpy(strrchr(dir, '/'), "/test_parsing");
    return dir;
}

/* The one-shot result, cross-checked with byte-at-a-time streaming. */
static qk_json *parse_checked(const char *name, const char *text, size_t len)
{
    qk_json *v = qk_json_parse(text, len, QK_JSON_STRICT, NULL);

    qk_json_parser_config cfg = {.mode = QK_JSON_STRICT};
    qk_json_parser *p = qk_json_parser_new(&cfg);
    qk_json *first = NULL, *got;
    int messages = 0, errors = 0;
    for (size_t i = 0; i < len;) {
        size_t used;
        int rc = qk_json_parser_feed(p, text + i, 1, &used, &got, NULL);
        i += used; /* 0 when a value ended just before this byte */
        if (rc == QK_JSON_VALUE && !messages)
            first = got;
        else
            qk_json_unref(got);
        messages += rc != QK_JSON_MORE;
        errors += rc == QK_JSON_ERROR;
    }
    int rc;
    while ((rc = qk_json_parser_finish(p, &got, NULL)) != QK_JSON_MORE) {
        if (rc == QK_JSON_VALUE && !messages)
            first = got;
        else
            qk_json_unref(got);
        messages++;
        errors += rc == QK_JSON_ERROR;
    }
    qk_json_parser_free(p);
    bool stream_ok = messages == 1 && errors == 0;
    if (stream_ok != (v != NULL) || (v && !qk_json_equal(v, first)))
        fail_msg("%s: streaming and one-shot parses disagree", name);
    qk_json_unref(first);
    return v;
}

typedef struct i_expect {
    char name[256];
    bool accepted;
} i_expect;

/* Reads "| `i_name.json` | accepted |" rows from docs/json.md. */
static size_t load_i_table(i_expect *tab, size_t max)
{
    char path[4096];
    const char *src = getenv("QK_SRCDIR");
    snprintf(path, sizeof path, "%s/docs/json.md", src ? src : ".");
    char *doc = tu_read_file(path, NULL);
    size_t n = 0;
    if (!doc)
        return 0;
    for (char *line = strtok(doc, "\n"); line && n < max;
         line = strtok(NULL, "\n")) {
        char name[256], verdict[32];
        if (sscanf(line, "| `%255[^`]` | %31s |", name, verdict) == 2 &&
            !strncmp(name, "i_", 2)) {
            snprintf(tab[n].name, sizeof tab[n].name, "%s", name);
            tab[n].accepted = !strcmp(verdict, "accepted");
            n++;
        }
    }
    free(doc);
    return n;
}

static void test_suite(void **state)
{
    (void)state;
    const char *dir = suite_dir();
    if (!dir) {
        print_message("JSONTestSuite not found (../shared absent): skipped\n");
        skip();
    }
    static i_expect itab[256];
    size_t ni = load_i_table(itab, 256);
    bool print = getenv("QK_JSON_SUITE_PRINT") != NULL;

    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    assert_true(n > 0);
    int y = 0, nn = 0, ii = 0, failures = 0;
    for (int k = 0; k < n; k++) {
        const char *name = ents[k]->d_name;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len;
        char *text = name[0] != '.' ? tu_read_file(path, &len) : NULL;
        if (!text) {
            free(ents[k]);
            continue;
        }
        qk_json *v = parse_checked(name, text, len);
        if (name[0] == 'y') {
            y++;
            if (!v) {
                print_error("%s: rejected\n", name);
                failures++;
            } else {
                char *out = qk_json_to_string(v, 0, NULL);
                qk_json *again = qk_json_parse(out, strlen(out),
                                               QK_JSON_STRICT, NULL);
                if (!again || !qk_json_equal(v, again)) {
                    print_error("%s: round trip changed it: %s\n", name, out);
                    failures++;
                }
                qk_json_unref(again);
                qk_free(out);
            }
        } else if (name[0] == 'n') {
            nn++;
            if (v) {
                print_error("%s: accepted\n", name);
                failures++;
            }
        } else if (name[0] == 'i') {
            ii++;
            if (print)
                printf("| `%s` | %s |\n", name, v ? "accepted" : "rejected");
            size_t j;
            for (j = 0; j < ni && strcmp(itab[j].name, name); j++)
                ;
            if (j == ni) {
                print_error("%s: not listed in docs/json.md\n", name);
                failures++;
            } else if (itab[j].accepted != (v != NULL)) {
                print_error("%s: docs/json.md says %s\n", name,
                            itab[j].accepted ? "accepted" : "rejected");
                failures++;
            }
        }
        qk_json_unref(v);
        free(text);
        free(ents[k]);
    }
    free(ents);
    print_message("JSONTestSuite: %d y_, %d n_, %d i_ cases, %d failures\n", y,
                  nn, ii, failures);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
