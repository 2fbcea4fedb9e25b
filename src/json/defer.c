/* SPDX-License-Identifier: MIT */
/*
 * Deferred messages: a container message whose bytes arrive over several
 * feed calls (down to one byte each) is collected in a buffer, and the fast
 * whole-message parser reads it once its last byte is there.
 *
 * The detector is a table-driven copy of the lexer's state machine that
 * only tells where tokens lie and counts '{' and '[' as the streamer does,
 * so it knows the byte that ends the message. It stops at anything that
 * could make the exact path answer early or differently: a byte the lexer
 * would call stray, the nesting limit, and any size close to the token
 * limits. The bytes collected so far then go to the exact path (they hold
 * no message end, so it only builds state from them) and the exact path
 * carries on from there. When the fast parser declines a complete message
 * (an error, a duplicate key, ...), the exact path reads it the same way
 * and gives QEMU's answer. Either way the result is what the exact path
 * would have given for the same bytes however they were chunked.
 */
#include <pthread.h>
#include <string.h>

#include "common/alloc-int.h"
#include "json/defer-int.h"
#include "json/parser-int.h"

/* One table per mode: strict mode has no single-quoted strings. */
static uint8_t tables[2][QK_DF_STATES][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Sets n entries of a row from byte `from` on. */
static void set_run(uint8_t *row, int from, int n, uint8_t v)
{
    for (int c = from; c < from + n; c++)
        row[c] = v;
}

/* What a byte does between tokens (and right after a number or keyword,
 * which it ends). */
static void start_row(uint8_t *row, bool qmp)
{
    row[' '] = row['\t'] = row['\r'] = row['\n'] = QK_DF_START;
    row[':'] = row[','] = QK_DF_START;
    row['{'] = row['}'] = row['['] = row[']'] = QK_DF_BRACKET;
    row['"'] = QK_DF_DQ;
    if (qmp)
        row['\''] = QK_DF_SQ;
    row['-'] = QK_DF_SIGN;
    row['0'] = QK_DF_ZERO;
    set_run(row, '1', 9, QK_DF_DIGITS);
    set_run(row, 'a', 26, QK_DF_KEYWORD);
}

static void build(uint8_t t[QK_DF_STATES][256], bool qmp)
{
    start_row(t[QK_DF_START], qmp);
    /* strings: bytes 0x20..0xFD; escapes are checked by the parser */
    set_run(t[QK_DF_DQ], 0x20, 0xFE - 0x20, QK_DF_DQ);
    set_run(t[QK_DF_DQ_ESC], 0x20, 0xFE - 0x20, QK_DF_DQ);
    t[QK_DF_DQ]['"'] = QK_DF_START;
    t[QK_DF_DQ]['\\'] = QK_DF_DQ_ESC;
    set_run(t[QK_DF_SQ], 0x20, 0xFE - 0x20, QK_DF_SQ);
    set_run(t[QK_DF_SQ_ESC], 0x20, 0xFE - 0x20, QK_DF_SQ);
    t[QK_DF_SQ]['\''] = QK_DF_START;
    t[QK_DF_SQ]['\\'] = QK_DF_SQ_ESC;
    /* numbers: where the lexer would see a stray, the entry stays 0 */
    set_run(t[QK_DF_SIGN], '0', 10, QK_DF_DIGITS);
    t[QK_DF_SIGN]['0'] = QK_DF_ZERO;
    start_row(t[QK_DF_ZERO], qmp);
    set_run(t[QK_DF_ZERO], '0', 10, 0); /* "01" */
    start_row(t[QK_DF_DIGITS], qmp);
    set_run(t[QK_DF_DIGITS], '0', 10, QK_DF_DIGITS);
    t[QK_DF_ZERO]['.'] = t[QK_DF_DIGITS]['.'] = QK_DF_MANT;
    set_run(t[QK_DF_MANT], '0', 10, QK_DF_MANT_DIGITS);
    start_row(t[QK_DF_MANT_DIGITS], qmp);
    set_run(t[QK_DF_MANT_DIGITS], '0', 10, QK_DF_MANT_DIGITS);
    t[QK_DF_ZERO]['e'] = t[QK_DF_ZERO]['E'] = QK_DF_EXP_E;
    t[QK_DF_DIGITS]['e'] = t[QK_DF_DIGITS]['E'] = QK_DF_EXP_E;
    t[QK_DF_MANT_DIGITS]['e'] = t[QK_DF_MANT_DIGITS]['E'] = QK_DF_EXP_E;
    t[QK_DF_EXP_E]['+'] = t[QK_DF_EXP_E]['-'] = QK_DF_EXP_SIGN;
    set_run(t[QK_DF_EXP_E], '0', 10, QK_DF_EXP_DIGITS);
    set_run(t[QK_DF_EXP_SIGN], '0', 10, QK_DF_EXP_DIGITS);
    start_row(t[QK_DF_EXP_DIGITS], qmp);
    set_run(t[QK_DF_EXP_DIGITS], '0', 10, QK_DF_EXP_DIGITS);
    /* keywords: any run of [a-z] (the parser rejects the wrong ones) */
    start_row(t[QK_DF_KEYWORD], qmp);
    set_run(t[QK_DF_KEYWORD], 'a', 26, QK_DF_KEYWORD);
}

static void build_tables(void)
{
    build(tables[0], false);
    build(tables[1], true);
}

void qk_defer_init(qk_defer *df, bool qmp, size_t max_size, size_t max_count)
{
    pthread_once(&tables_once, build_tables);
    memset(df, 0, sizeof *df);
    df->next = (const uint8_t(*)[256])tables[qmp];
    /* With fewer bytes than this in a message, no size or count limit can
     * be reached (a token has at least one byte), nor a token be cut. */
    size_t lim = max_size < max_count ? max_size : max_count;
    df->bound = lim > 2 ? lim - 2 : 0;
}

/* Bytes collected, and room for them (pointers, so that the per-byte
 * path tests and bumps one). */
static size_t collected(const qk_defer *df)
{
    return df->buf ? (size_t)(df->end - df->buf) : 0;
}

static size_t room(const qk_defer *df)
{
    return df->buf ? (size_t)(df->limit - df->buf) : 0;
}

void qk_defer_free(qk_defer *df)
{
    qk_free(df->buf);
    df->buf = df->end = df->limit = NULL;
    qk_defer_reset(df);
}

void qk_defer_reset(qk_defer *df)
{
    df->st = QK_DF_OFF;
    df->end = df->buf;
    df->done = 0;
}

/* Room for n more bytes (n <= bound - collected). */
static bool reserve(qk_defer *df, size_t n)
{
    size_t len = collected(df), cap = room(df);
    if (cap - len >= n)
        return true;
    cap = cap ? cap : 256;
    while (cap - len < n)
        cap *= 2;
    if (cap > df->bound)
        cap = df->bound;
    uint8_t *b = qk_realloc(df->buf, cap);
    if (!b)
        return false;
    df->buf = b;
    df->end = b + len;
    df->limit = b + cap;
    return true;
}

/* Done with the buffer's bytes: a very large buffer is not kept. */
static void release(qk_defer *df)
{
    qk_defer_reset(df);
    if (room(df) > ((size_t)1 << 20))
        qk_defer_free(df);
}

/* Hands buf[done..len) to the exact path, up to the first message. */
static int drain(qk_json_parser *p, qk_json **value, qk_json_error *err)
{
    qk_defer *df = &p->dfr;
    int rc = QK_JSON_MORE;
    size_t len = collected(df);
    df->st = QK_DF_PENDING;
    while (df->done < len && rc == QK_JSON_MORE) {
        size_t pos = df->done;
        rc = qk_parser_run(p, df->buf, len, &pos, value, err, false);
        df->done = pos;
    }
    if (df->done == len)
        release(df);
    return rc;
}

/* The message is complete in buf: the fast parser, else the exact path. */
static int complete(qk_json_parser *p, qk_json **value, qk_json_error *err)
{
    qk_defer *df = &p->dfr;
    size_t used, len = collected(df);
    df->done = 0;
    if (qk_json__fast_message(p, df->buf, len, &used, value)) {
        df->done = used; /* all of it, as the detector ended the message */
        df->st = QK_DF_PENDING;
        if (df->done == len)
            release(df);
        return QK_JSON_VALUE;
    }
    return drain(p, value, err);
}

int qk_defer_begin(qk_json_parser *p, const uint8_t *d, size_t len,
                   size_t *pos, qk_json **value, qk_json_error *err)
{
    qk_defer *df = &p->dfr;
    df->st = QK_DF_START;
    df->end = df->buf;
    df->done = 0;
    df->braces = df->brackets = 0;
    return qk_defer_feed(p, d, len, pos, value, err);
}

int qk_defer_feed(qk_json_parser *p, const uint8_t *d, size_t len,
                  size_t *pos, qk_json **value, qk_json_error *err)
{
    qk_defer *df = &p->dfr;
    if (df->st == QK_DF_PENDING)
        return drain(p, value, err);

    const uint8_t(*next)[256] = df->next;
    size_t s = *pos, i = s, have = collected(df);
    size_t lim = len - s > df->bound - have ? s + (df->bound - have) : len;
    uint8_t st = df->st;
    enum { RAN_OUT, END, STOP } why = RAN_OUT;
    while (i < lim) {
        uint8_t n = next[st][d[i]];
        if (n - 1u < QK_DF_BRACKET - 1u) {
            st = n;
            i++;
            continue;
        }
        if (!n) {
            why = STOP;
            break;
        }
        switch (d[i]) {
        case '{':
        case '[':
            if (df->braces + df->brackets + 1 > (long)p->max_depth) {
                why = STOP; /* the exact path reports the limit */
                goto out;
            }
            if (d[i] == '{')
                df->braces++;
            else
                df->brackets++;
            break;
        case '}': df->braces--; break;
        default: df->brackets--; break;
        }
        i++;
        st = QK_DF_START;
        if (!((df->braces > 0 || df->brackets > 0) && df->braces >= 0 &&
              df->brackets >= 0)) {
            why = END;
            break;
        }
    }
    if (why == RAN_OUT && i < len)
        why = STOP; /* near the limits: the exact path counts */
out:
    if (i > s && !reserve(df, i - s)) {
        i = s;
        why = STOP;
    } else if (i > s) {
        memcpy(df->end, d + s, i - s);
        df->end += i - s;
    }
    df->st = st;
    *pos = i;
    if (why == RAN_OUT)
        return QK_JSON_MORE;
    if (why == END)
        return complete(p, value, err);
    /* Stop collecting: what was collected goes to the exact path, which
     * then reads on from d[i]. */
    df->done = 0;
    return drain(p, value, err);
}

int qk_defer_flush(qk_json_parser *p, qk_json **value, qk_json_error *err)
{
    qk_defer *df = &p->dfr;
    if (df->st == QK_DF_OFF)
        return QK_JSON_MORE;
    if (df->st != QK_DF_PENDING)
        df->done = 0;
    return drain(p, value, err);
}
