/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the streaming parser. The first byte picks the mode, the
 * chunking and whether small limits apply; the rest is the stream. Checks:
 * no crash, leak or hang; feeding in chunks gives the same messages as
 * feeding everything at once; every value written out (compact and pretty)
 * reads back equal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmpkit/json.h"
#include "../fuzz.h"
#include "../../tests/json/parser-transcript.h"

static void check_round_trip(const qk_json *v, qk_json_mode mode)
{
    for (unsigned flags = 0; flags <= QK_JSON_PRETTY; flags += QK_JSON_PRETTY) {
        size_t len;
        char *text = qk_json_to_string(v, flags, &len);
        if (!text)
            abort();
        qk_json_parser_config cfg = {mode, 0, 0, 100000};
        qk_json_parser *p = qk_json_parser_new(&cfg);
        qk_json *back = NULL, *tmp;
        size_t used;
        int rc = qk_json_parser_feed(p, text, len, &used, &back, NULL);
        if (rc == QK_JSON_MORE) /* a top-level number needs the end */
            rc = qk_json_parser_finish(p, &back, NULL);
        while (qk_json_parser_finish(p, &tmp, NULL) != QK_JSON_MORE)
            qk_json_unref(tmp);
        qk_json_parser_free(p);
        if (rc != QK_JSON_VALUE || !qk_json_equal(v, back))
            abort();
        qk_json_unref(back);
        qk_free(text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[8] = {0, 1, 2, 3, 5, 7, 64, 4096};
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    qk_json_parser_config cfg = {opt & 1 ? QK_JSON_STRICT : QK_JSON_QMP, 0,
                                 0, 0};
    if (opt & 0x10) {
        cfg.max_token_size = 64;
        cfg.max_token_count = 32;
        cfg.max_depth = 8;
    }
    size_t step = chunks[(opt >> 1) & 7];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;

    char *whole = tr_run(&cfg, in, n, 0, 0, true);
    char *chunked;
    if (step == 1) {
        chunked = tr_run(&cfg, in, n, 1, 0, true);
    } else {
        /* Feed in chunks of `step` (or split in two when step is 0). */
        qk_buf out = QK_BUF_INIT;
        qk_json_parser *p = qk_json_parser_new(&cfg);
        size_t s = step ? step : (n / 2 ? n / 2 : 1);
        for (size_t i = 0; i < n; i += s)
            tr_feed(p, in + i, n - i < s ? n - i : s, &out);
        tr_finish(p, &out);
        qk_json_parser_free(p);
        qk_buf_append(&out, "", 0);
        chunked = qk_buf_steal(&out, NULL);
    }
    if (!whole || !chunked || strcmp(whole, chunked) != 0)
        abort();
    qk_free(whole);
    qk_free(chunked);

    /* Round trip every value. */
    qk_json_parser *p = qk_json_parser_new(&cfg);
    size_t pos = 0;
    while (pos < n) {
        size_t used;
        qk_json *v = NULL;
        int rc = qk_json_parser_feed(p, in + pos, n - pos, &used, &v, NULL);
        pos += used;
        if (rc == QK_JSON_VALUE)
            check_round_trip(v, cfg.mode);
        qk_json_unref(v);
        if (rc == QK_JSON_MORE)
            break;
    }
    qk_json *v;
    int rc;
    while ((rc = qk_json_parser_finish(p, &v, NULL)) != QK_JSON_MORE) {
        if (rc == QK_JSON_VALUE)
            check_round_trip(v, cfg.mode);
        qk_json_unref(v);
    }
    qk_json_parser_free(p);
    return 0;
}
