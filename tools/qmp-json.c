/* SPDX-License-Identifier: MIT */
/*
 * qmp-json: reads JSON values from a file or stdin and writes each back
 * out; parse errors go to stderr with line and column. A thin tool over
 * the streaming parser, for reading captured QMP traffic and for running
 * the parser over a corpus from the shell.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmpkit/json.h"

static const char usage[] =
    "Usage: qmp-json [--qmp | --strict] [--compact | --pretty] [FILE]\n"
    "\n"
    "Reads JSON values from FILE (or standard input) and writes each back\n"
    "out, one per line, as ASCII-only JSON.\n"
    "\n"
    "  --qmp      read a QMP stream (the default): QEMU's dialect with\n"
    "             'single-quoted' strings, any number of values, and QEMU's\n"
    "             recovery after bad input (reading goes on after an error)\n"
    "  --strict   read RFC 8259 JSON, one value after another; stop at the\n"
    "             first error\n"
    "  --compact  write QEMU's compact form (the default)\n"
    "  --pretty   write QEMU's pretty form (4-space indent)\n"
    "  --help     show this text\n"
    "\n"
    "Errors are printed as FILE:LINE:COLUMN: MESSAGE on standard error.\n"
    "Exit status: 0 if everything parsed, 1 if there was a parse error,\n"
    "2 on a usage or I/O error.\n";

static const char *input_name = "<stdin>";
static unsigned write_flags;
static int errors;

static void report(const qk_json_error *e)
{
    qk_buf msg = QK_BUF_INIT;
    fflush(stdout); /* keep values and errors in input order */
    /* The message may quote raw input bytes: print them escaped. */
    if (qk_json_write_string(&msg, e->message, strlen(e->message)) == 0) {
        /* Drop the quotes the writer adds. */
        fprintf(stderr, "%s:%u:%u: %.*s\n", input_name, e->line, e->column,
                (int)(msg.len - 2), msg.data + 1);
    }
    qk_buf_free(&msg);
    errors++;
}

static int emit(qk_json *v)
{
    qk_buf out = QK_BUF_INIT;
    int rc = qk_json_write(&out, v, write_flags);
    qk_json_unref(v);
    if (rc == 0)
        rc = qk_buf_append_char(&out, '\n');
    if (rc == 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = QK_ERR_IO;
    qk_buf_free(&out);
    if (rc < 0)
        fprintf(stderr, "qmp-json: %s\n", qk_strerror(rc));
    return rc;
}

/* Handles one parser result; returns -1 to stop. */
static int handle(int rc, qk_json *v, const qk_json_error *e, bool strict)
{
    if (rc == QK_JSON_VALUE)
        return emit(v) < 0 ? -1 : 0;
    if (rc == QK_JSON_ERROR) {
        report(e);
        return strict ? -1 : 0;
    }
    if (rc < 0) {
        fprintf(stderr, "qmp-json: %s\n", qk_strerror(rc));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    qk_json_parser_config cfg = {.mode = QK_JSON_QMP};
    const char *path = NULL;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--qmp")) {
            cfg.mode = QK_JSON_QMP;
        } else if (!strcmp(argv[i], "--strict")) {
            cfg.mode = QK_JSON_STRICT;
        } else if (!strcmp(argv[i], "--pretty")) {
            write_flags = QK_JSON_PRETTY;
        } else if (!strcmp(argv[i], "--compact")) {
            write_flags = 0;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "qmp-json: unknown option %s\n\n%s", argv[i],
                    usage);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "qmp-json: one FILE at most\n");
            return 2;
        }
    }

    FILE *in = stdin;
    if (path && strcmp(path, "-")) {
        in = fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "qmp-json: %s: %s\n", path, strerror(errno));
            return 2;
        }
        input_name = path;
    }

    bool strict = cfg.mode == QK_JSON_STRICT;
    qk_json_parser *p = qk_json_parser_new(&cfg);
    if (!p) {
        fprintf(stderr, "qmp-json: out of memory\n");
        return 2;
    }
    static char buf[1 << 16];
    bool stop = false;
    size_t n;
    while (!stop && (n = fread(buf, 1, sizeof buf, in)) > 0) {
        for (size_t pos = 0; pos < n && !stop;) {
            size_t used;
            qk_json *v = NULL;
            qk_json_error e;
            int rc = qk_json_parser_feed(p, buf + pos, n - pos, &used, &v, &e);
            pos += used;
            stop = handle(rc, v, &e, strict) < 0;
            if (rc == QK_JSON_MORE)
                break;
        }
    }
    int status = 0;
    if (ferror(in)) {
        fprintf(stderr, "qmp-json: %s: read error\n", input_name);
        status = 2;
    }
    while (!stop) {
        qk_json *v = NULL;
        qk_json_error e;
        int rc = qk_json_parser_finish(p, &v, &e);
        if (rc == QK_JSON_MORE)
            break;
        stop = handle(rc, v, &e, strict) < 0;
    }
    qk_json_parser_free(p);
    if (in != stdin)
        fclose(in);
    if (fflush(stdout) != 0)
        status = 2;
    return status ? status : errors ? 1 : 0;
}
