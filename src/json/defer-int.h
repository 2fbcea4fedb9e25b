/* SPDX-License-Identifier: MIT */
/*
 * Deferred messages (see defer.c): a container message that arrives in
 * pieces is collected in a buffer while a cheap byte-by-byte detector
 * watches for its end; the fast whole-message parser then reads it once.
 * Anything the detector is not sure about hands the bytes to the exact
 * incremental path instead.
 */
#ifndef QK_DEFER_INT_H
#define QK_DEFER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmpkit/json.h"

/* Detector states. OFF and PENDING have all-zero rows in the table, so
 * that the per-byte test below fails for them without a separate check. */
enum {
    QK_DF_OFF,     /* not collecting */
    QK_DF_PENDING, /* buf[done..] still awaits the exact path */
    QK_DF_START,   /* between tokens */
    QK_DF_DQ,
    QK_DF_DQ_ESC,
    QK_DF_SQ,
    QK_DF_SQ_ESC,
    QK_DF_SIGN,
    QK_DF_ZERO,
    QK_DF_DIGITS,
    QK_DF_MANT,
    QK_DF_MANT_DIGITS,
    QK_DF_EXP_E,
    QK_DF_EXP_SIGN,
    QK_DF_EXP_DIGITS,
    QK_DF_KEYWORD,
    QK_DF_STATES,
};

/* Table entries: 0 = not for the detector (a lexical error, or an
 * unusual byte), a state, or a bracket (counted by the slow part). */
#define QK_DF_BRACKET 0x80

typedef struct qk_defer {
    uint8_t st;
    uint8_t *buf;
    uint8_t *end;   /* of the bytes collected */
    uint8_t *limit; /* of the room for them */
    size_t bound;       /* buf never grows past this (below the limits) */
    size_t done;        /* PENDING: bytes of buf already replayed */
    long braces, brackets;
    const uint8_t (*next)[256]; /* the table of the parser's mode */
} qk_defer;

/*
 * Takes one byte that continues the message being collected without
 * touching a bracket count. False, having done nothing, otherwise
 * (including when nothing is being collected).
 */
static inline bool qk_defer_absorb(qk_defer *df, uint8_t c)
{
    /* States are 1..127; 0 and QK_DF_BRACKET are not positive. */
    int8_t s = (int8_t)df->next[df->st][c];
    if (s <= 0 || df->end == df->limit)
        return false;
    *df->end++ = c;
    df->st = (uint8_t)s;
    return true;
}

/*
 * Takes one bracket of the message being collected when it neither ends
 * the message nor reaches the nesting limit; false, having done nothing,
 * otherwise.
 */
static inline bool qk_defer_bracket(qk_defer *df, uint8_t c, long max_depth)
{
    if (df->st < QK_DF_START || df->next[df->st][c] != QK_DF_BRACKET ||
        df->end == df->limit)
        return false;
    long braces = df->braces, brackets = df->brackets;
    switch (c) {
    case '{': braces++; break;
    case '[': brackets++; break;
    case '}': braces--; break;
    default: brackets--; break;
    }
    if (braces + brackets > max_depth ||
        !((braces > 0 || brackets > 0) && braces >= 0 && brackets >= 0))
        return false;
    df->braces = braces;
    df->brackets = brackets;
    *df->end++ = c;
    df->st = QK_DF_START;
    return true;
}

void qk_defer_init(qk_defer *df, bool qmp, size_t max_size, size_t max_count);
void qk_defer_free(qk_defer *df);
/* Forgets what was collected or pending. */
void qk_defer_reset(qk_defer *df);

/*
 * Starts collecting a message at d[*pos], a '{' or '['; the parser stands
 * between messages. Then as qk_defer_feed.
 */
int qk_defer_begin(qk_json_parser *p, const uint8_t *d, size_t len,
                   size_t *pos, qk_json **value, qk_json_error *err);

/*
 * While st != OFF: consumes bytes from d[*pos..len) into the message being
 * collected, or first replays pending bytes. Returns a message status as
 * qk_json_parser_feed does; on QK_JSON_MORE with *pos < len, the detector
 * has stopped and d[*pos..] is for the exact path.
 */
int qk_defer_feed(qk_json_parser *p, const uint8_t *d, size_t len,
                  size_t *pos, qk_json **value, qk_json_error *err);

/* At the end of the stream: hands everything collected to the exact path.
 * QK_JSON_MORE when it all went through without a message. */
int qk_defer_flush(qk_json_parser *p, qk_json **value, qk_json_error *err);

#endif
