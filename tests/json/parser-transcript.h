/* SPDX-License-Identifier: MIT */
/*
 * Renders what the streaming parser makes of an input as a transcript, one
 * line per message: "V:<compact JSON>" for a value, "E:<message>" (bytes outside
 * printable ASCII shown as \xHH) for an error, "OOM" for an allocation failure. The input can be
 * fed whole, one byte at a time, or in two parts split at any offset, so a
 * test can check that chunking never changes the result.
 */
#ifndef QK_PARSER_TRANSCRIPT_H
#define QK_PARSER_TRANSCRIPT_H

#include <string.h>

#include "qmpkit/json.h"

static void tr_record(qk_buf *out, int rc, qk_json *v, const qk_json_error *e)
{
    if (rc == QK_JSON_VALUE) {
        qk_buf_append_str(out, "V:");
        qk_json_write(out, v, 0);
        qk_json_unref(v);
    } else if (rc == QK_JSON_ERROR) {
        qk_buf_append_str(out, "E:");
        for (const unsigned char *m = (const unsigned char *)e->message; *m;
             m++) {
            if (*m >= 0x20 && *m < 0x7F)
                qk_buf_append_char(out, (char)*m);
            else
                qk_buf_printf(out, "\\x%02X", *m);
        }
    } else if (rc < 0) {
        qk_buf_append_str(out, "OOM");
    } else {
        return;
    }
    qk_buf_append_char(out, '\n');
}

static void tr_feed(qk_json_parser *p, const char *d, size_t n, qk_buf *out)
{
    size_t pos = 0;
    while (pos < n) {
        size_t used = 0;
        qk_json *v = NULL;
        qk_json_error e;
        int rc = qk_json_parser_feed(p, d + pos, n - pos, &used, &v, &e);
        pos += used;
        tr_record(out, rc, v, &e);
        if (rc == QK_JSON_MORE)
            break;
    }
}

static void tr_finish(qk_json_parser *p, qk_buf *out)
{
    for (;;) {
        qk_json *v = NULL;
        qk_json_error e;
        int rc = qk_json_parser_finish(p, &v, &e);
        if (rc == QK_JSON_MORE)
            break;
        tr_record(out, rc, v, &e);
    }
}

/* step 0: whole input (split at `split` if 0 < split < n); step 1: one byte
 * per call. Returns a malloc'ed transcript (free with qk_free). */
static char *tr_run(const qk_json_parser_config *cfg, const char *in,
                    size_t n, size_t step, size_t split, bool finish)
{
    qk_buf out = QK_BUF_INIT;
    qk_json_parser *p = qk_json_parser_new(cfg);
    if (!p)
        return NULL;
    if (step == 1) {
        for (size_t i = 0; i < n; i++)
            tr_feed(p, in + i, 1, &out);
    } else if (split > 0 && split < n) {
        tr_feed(p, in, split, &out);
        tr_feed(p, in + split, n - split, &out);
    } else {
        tr_feed(p, in, n, &out);
    }
    if (finish)
        tr_finish(p, &out);
    qk_json_parser_free(p);
    qk_buf_append(&out, "", 0);
    return qk_buf_steal(&out, NULL);
}

#endif
