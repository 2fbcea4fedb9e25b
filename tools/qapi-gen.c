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

/*
 * The option ARG spells out in full ("-o", "--output-dir", "--check"...),
 * 0 if none; *eq points after '=' in "--NAME=VALUE", else is NULL.
 */
static int exact_option(const char *arg, const char **eq)
{
    *eq = NULL;
    if (arg[0] == '-' && arg[1] && arg[1] != '-' && !arg[2] &&
        strchr("opbuh", arg[1]))
        return arg[1];
    if (arg[0] != '-' || arg[1] != '-')
        return 0;
    for (const struct option *o = opts; o->name; o++) {
        size_t n = strlen(o->name);
        if (strncmp(arg + 2, o->name, n))
            continue;
        if (!arg[2 + n])
            return o->val;
        if (arg[2 + n] == '=' && o->has_arg) {
            *eq = arg + 3 + n;
            return o->val;
        }
    }
    return 0;
}

/*
 * Whether the arguments use only the exact spellings (the options in full,
 * separate from or '='-joined to their values, and operands not starting
 * with '-'). Those are parsed without getopt_long(): calling it makes about
 * 120 KB more of libc resident, a twentieth of a check's memory. Anything
 * else (abbreviations, bundled flags, "--", mistakes) goes to getopt_long()
 * so that its behaviour and messages stay exactly the same.
 */
static bool exact_args(int argc, char **argv)
{
    if (getenv("POSIXLY_CORRECT"))
        return false; /* getopt would not permute */
    for (int i = 1; i < argc; i++) {
        const char *eq;
        int c = exact_option(argv[i], &eq);
        if (!c && argv[i][0] == '-')
            return false;
        if (c && !eq && strchr("opC", c) && ++i == argc)
            return false; /* the missing argument: getopt's message */
    }
    return true;
}

/* Fetches the next option of ARGV as getopt_long() would, for arguments
 * exact_args() accepts; operands are collected in *operand (the last one)
 * and counted in *noperands. */
static int next_exact(int argc, char **argv, int *i, char **arg,
                      char **operand, int *noperands)
{
    while (*i < argc) {
        const char *eq;
        char *a = argv[(*i)++];
        int c = exact_option(a, &eq);
        if (!c) {
            *operand = a;
            ++*noperands;
            continue;
        }
        *arg = eq ? (char *)eq : NULL;
        if (!eq && strchr("opC", c))
            *arg = argv[(*i)++];
        return c;
    }
    return -1;
}

int main(int argc, char **argv)
{
    bool dump = false, check_only = false;
    int compat = 0;
    qk_gen_options gopt = {"", false, false};
    bool exact = exact_args(argc, argv);
    int c, next = 1, noperands = 0;
    char *optval = NULL, *operand = NULL;
    while ((c = exact ? next_exact(argc, argv, &next, &optval, &operand,
                                   &noperands)
                      : getopt_long(argc, argv, "o:p:buh", opts, NULL)) !=
           -1) {
        if (!exact)
            optval = optarg;
        switch (c) {
        case 'o':
            outdir = optval;
            break;
        case 'p':
            for (const char *p = optval; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      *p == '_' || *p == '.' || *p == '-' ||
                      (p != optval && *p >= '0' && *p <= '9'))) {
                    fprintf(stderr,
                            "%s: funny character '%c' in argument of "
                            "--prefix\n", argv[0], *p);
                    return 1;
                }
            gopt.prefix = optval;
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
            compat = atoi(optval);
            if (compat != 2015) {
                fprintf(stderr, "%s: unknown --compat level '%s'\n", argv[0],
                        optval);
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
    if (exact ? noperands != 1 : optind != argc - 1) {
        usage(stderr, argv[0]);
        return 2;
    }
    const char *prefix_check = exact ? operand : argv[optind];
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
