/* SPDX-License-Identifier: MIT */
/*
 * qapi-gen: the QAPI schema compiler's command line, a thin layer over
 * include/qmpkit/schema.h. It takes QEMU's flags (-o DIR, -p PREFIX, -b,
 * -u). Without --dump it writes every back end's files to -o DIR (files
 * are rewritten only when their content changes; files outside DIR, named
 * "../...", are not written, as QEMU does; see file-writer.c). --dump
 * prints the checked model in the format of QEMU's schema test harness;
 * --check only checks the schema and writes nothing.
 *
 * Exit status: 0 valid schema, 1 rejected schema or error, 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file-writer.h"
#include "qmpkit/schema-gen.h"
#include "qmpkit/schema.h"

static void diag(void *opaque, const char *text)
{
    (void)opaque;
    fputs(text, stderr);
}

static const char *outdir = ".";

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [-h] [-o DIR] [-p PREFIX] [-b] [-u] [--dump | --check]\n"
            "       [--compat=2015] SCHEMA\n"
            "\n"
            "Check a QAPI schema (and generate code from it).\n"
            "\n"
            "  -o, --output-dir DIR   write output files to DIR\n"
            "  -p, --prefix PREFIX    prefix for generated symbols and files\n"
            "  -b, --builtins         also generate code for built-in types\n"
            "  -u, --unmask-non-abi-names  unmask non-ABI names in introspection\n"
            "      --dump             print the checked model (QEMU test format)\n"
            "      --check            only check the schema; write nothing\n"
            "      --compat=2015      accept the 2015 schema language\n",
            argv0);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output-dir", required_argument, NULL, 'o'},
        {"prefix", required_argument, NULL, 'p'},
        {"builtins", no_argument, NULL, 'b'},
        {"unmask-non-abi-names", no_argument, NULL, 'u'},
        {"dump", no_argument, NULL, 'D'},
        {"check", no_argument, NULL, 'K'},
        {"compat", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool dump = false, check_only = false;
    int compat = 0;
    qk_gen_options gopt = {"", false, false};
    int c;
    while ((c = getopt_long(argc, argv, "o:p:buh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            outdir = optarg;
            break;
        case 'p':
            for (const char *p = optarg; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      *p == '_' || *p == '.' || *p == '-' ||
                      (p != optarg && *p >= '0' && *p <= '9'))) {
                    fprintf(stderr,
                            "%s: funny character '%c' in argument of "
                            "--prefix\n", argv[0], *p);
                    return 1;
                }
            gopt.prefix = optarg;
            break;
        case 'b':
            gopt.builtins = true;
            break;
        case 'u':
            gopt.unmask = true;
            break;
        case 'D':
            dump = true;
            break;
        case 'K':
            check_only = true;
            break;
        case 'C':
            compat = atoi(optarg);
            if (compat != 2015) {
                fprintf(stderr, "%s: unknown --compat level '%s'\n", argv[0],
                        optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout, argv[0]);
            return 0;
        default:
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr, argv[0]);
        return 2;
    }
    const char *prefix_check = argv[optind];
    qk_schema *s = qk_schema_new();
    if (!s) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        return 1;
    }
    qk_schema_set_diag(s, diag, NULL);
    qk_schema_set_compat(s, compat);
    if (!dump) /* no back end needs the doc text yet */
        qk_schema_set_keep_doc_text(s, false);
    int r = qk_schema_compile_file(s, prefix_check);
    if (r == QK_ERR_NOMEM)
        fprintf(stderr, "%s: out of memory\n", argv[0]);
    if (r < 0) {
        qk_schema_free(s);
        return 1;
    }
    if (check_only) {
        /* the diagnostics, if any, are already out */
    } else if (dump) {
        qk_buf out = QK_BUF_INIT;
        if (qk_schema_dump(s, &out) < 0) {
            fprintf(stderr, "%s: out of memory\n", argv[0]);
            qk_buf_free(&out);
            qk_schema_free(s);
            return 1;
        }
        fwrite(out.data, 1, out.len, stdout);
        qk_buf_free(&out);
    } else {
        file_writer *w = file_writer_new(outdir);
        r = w ? qk_schema_generate(s, &gopt, file_writer_put, w)
              : QK_ERR_NOMEM;
        int wr = file_writer_finish(w); /* every file written, or an error */
        if (r < 0 || wr < 0) {
            if (r < 0 && r != QK_ERR_IO)
                fprintf(stderr, "%s: %s\n", argv[0], qk_strerror(r));
            qk_schema_free(s);
            return 1;
        }
    }
    qk_schema_free(s);
    return fflush(stdout) ? 1 : 0;
}
