/* SPDX-License-Identifier: MIT */
/*
 * The JSON lexer: bytes to tokens, incrementally, with QEMU's extensions and
 * recovery (checklist 5.9). A token may span any number of chunks; partial
 * token bytes are kept in tok, bounded by the token size limit.
 */
#ifndef QK_LEXER_INT_H
#define QK_LEXER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmpkit/common.h"

typedef enum qk_tok_type {
    QK_TOK_NONE = 0,  /* no token complete: the chunk is used up */
    QK_TOK_LCURLY,
    QK_TOK_RCURLY,
    QK_TOK_LSQUARE,
    QK_TOK_RSQUARE,
    QK_TOK_COLON,
    QK_TOK_COMMA,
    QK_TOK_INTEGER,
    QK_TOK_FLOAT,
    QK_TOK_KEYWORD,
    QK_TOK_STRING,    /* text includes the quotes */
    QK_TOK_STRAY,     /* a lexical error: text is the partial token */
    QK_TOK_OVERSIZE,  /* a token cut at the size limit */
} qk_tok_type;

typedef struct qk_tok {
    qk_tok_type type;
    const char *text; /* valid until the next call into the lexer */
    size_t len;
    size_t offset;    /* stream offset of the byte that ended the token */
} qk_tok;

typedef struct qk_lexer {
    int state;
    bool qmp;         /* accept 'single quotes' and \' */
    size_t max_token; /* a token longer than this is cut */
    qk_buf tok;       /* bytes of a token begun in an earlier chunk */
    size_t offset;    /* stream offset of the next byte */
    unsigned line;    /* 1-based line of the next byte */
    size_t line_start; /* stream offset where that line begins */
} qk_lexer;

void qk_lexer_init(qk_lexer *lx, bool qmp, size_t max_token);
void qk_lexer_reset(qk_lexer *lx);
void qk_lexer_free(qk_lexer *lx);

/*
 * Scans data[*pos..len) for the next token. Returns its type with *pos just
 * past the bytes it used (a number or keyword ends at the byte after it,
 * which is not used), or QK_TOK_NONE with *pos == len. QK_ERR_NOMEM if a
 * partial token could not be saved (the token is then dropped).
 */
int qk_lexer_scan(qk_lexer *lx, const uint8_t *data, size_t len, size_t *pos,
                  qk_tok *tok);

/*
 * End of input: completes a pending number or keyword, or turns a pending
 * incomplete token into QK_TOK_STRAY. QK_TOK_NONE when nothing is pending.
 */
qk_tok_type qk_lexer_flush(qk_lexer *lx, qk_tok *tok);

/* Lexer states the inline fast path below needs to see. */
enum {
    QK_LX_START,
    QK_LX_RECOVERY,
    QK_LX_DQ,
    QK_LX_DQ_ESC,
    QK_LX_SQ,
    QK_LX_SQ_ESC,
    QK_LX_SIGN,
    QK_LX_ZERO,
    QK_LX_DIGITS,
    QK_LX_MANT,
    QK_LX_MANT_DIGITS,
    QK_LX_EXP_E,
    QK_LX_EXP_SIGN,
    QK_LX_EXP_DIGITS,
    QK_LX_KEYWORD,
};

/* For each state, the bytes that merely continue it (whitespace for
 * START): 1 = append to the token, 2 = blank, 3 = newline. */
extern const uint8_t qk_lexer_continues[QK_LX_KEYWORD + 1][256];
/* For START, the state a byte begins a token in (+1; 0: none). Row 0 is
 * for strict mode, row 1 for QMP mode (single quotes). */
extern const uint8_t qk_lexer_begins[2][256];

/*
 * Takes one byte that only continues what is under way (a string's plain
 * byte, a digit, a keyword letter, a blank between tokens) without the
 * general machinery, so feeding one byte at a time stays cheap. Returns
 * false, having done nothing, for any other byte.
 */
static inline bool qk_lexer_absorb(qk_lexer *lx, uint8_t c)
{
    switch (qk_lexer_continues[lx->state][c]) {
    case 1:
        /* The cut at the size limit is left to the general path. */
        if (lx->tok.len + 1 >= lx->tok.cap || lx->tok.len >= lx->max_token)
            return false;
        /* Token text is used with its length: no NUL to maintain. */
        lx->tok.data[lx->tok.len++] = (char)c;
        lx->offset++;
        return true;
    case 2:
        lx->offset++;
        return true;
    case 3:
        lx->line++;
        lx->line_start = ++lx->offset;
        return true;
    default:
        break;
    }
    /* The first byte of a string, number or keyword. */
    uint8_t next = lx->state == QK_LX_START ? qk_lexer_begins[lx->qmp][c] : 0;
    if (!next || lx->tok.cap < 2 || lx->max_token < 1)
        return false;
    lx->state = next - 1;
    lx->tok.data[0] = (char)c;
    lx->tok.len = 1;
    lx->offset++;
    return true;
}

/*
 * If the lexer stands between tokens and c is a structural character,
 * takes it and returns its token type (the token's text is the byte at
 * *c); otherwise QK_TOK_NONE, having done nothing.
 */
static inline qk_tok_type qk_lexer_structural(qk_lexer *lx, const uint8_t *c,
                                              qk_tok *tok)
{
    qk_tok_type t;
    if (lx->state != QK_LX_START)
        return QK_TOK_NONE;
    switch (*c) {
    case '{': t = QK_TOK_LCURLY; break;
    case '}': t = QK_TOK_RCURLY; break;
    case '[': t = QK_TOK_LSQUARE; break;
    case ']': t = QK_TOK_RSQUARE; break;
    case ':': t = QK_TOK_COLON; break;
    case ',': t = QK_TOK_COMMA; break;
    default: return QK_TOK_NONE;
    }
    tok->type = t;
    tok->text = (const char *)c;
    tok->len = 1;
    tok->offset = lx->offset++;
    return t;
}

/*
 * If c closes the string under way, completes that token in *tok (its text
 * in lx->tok) and returns true; otherwise false, having done nothing.
 */
static inline bool qk_lexer_close_string(qk_lexer *lx, const uint8_t *c,
                                         qk_tok *tok)
{
    if (!((lx->state == QK_LX_DQ && *c == '"') ||
          (lx->state == QK_LX_SQ && *c == '\'')) ||
        lx->tok.len + 1 >= lx->tok.cap)
        return false;
    lx->tok.data[lx->tok.len++] = (char)*c;
    lx->state = QK_LX_START;
    tok->type = QK_TOK_STRING;
    tok->text = lx->tok.data;
    tok->len = lx->tok.len;
    tok->offset = lx->offset++;
    return true;
}

/* True between tokens (not inside one, not recovering). */
static inline bool qk_lexer_idle(const qk_lexer *lx)
{
    return lx->state == QK_LX_START;
}

/* Line and 1-based column of a stream offset at or after the current line
 * start (used for error positions). */
void qk_lexer_position(const qk_lexer *lx, size_t offset, unsigned *line,
                       unsigned *column);

#endif
