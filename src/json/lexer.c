/* SPDX-License-Identifier: MIT */
/*
 * The JSON lexer (checklist 5.9, qmp-spec "JSON input"). A hand-written
 * state machine that behaves byte for byte like QEMU's table-driven one:
 *
 * - keywords are any run of [a-z] (the parser rejects the wrong ones);
 * - a number or keyword ends at the first byte that cannot continue it;
 *   that byte is not used and is lexed again;
 * - strings take raw bytes 0x20..0xFD; escapes are checked by the parser;
 *   QMP mode also takes 'single-quoted' strings;
 * - any other byte is a lexical error: the partial token, offending byte
 *   included, becomes a "stray" token and the lexer skips input until a
 *   structural character, a control character other than TAB, or 0xFE/0xFF,
 *   which is then lexed normally;
 * - a token longer than the size limit is cut, and lexing restarts in the
 *   middle of it.
 *
 * It works on whatever chunk it is given: a token split across chunks is
 * kept in lx->tok until its end arrives, so feeding one byte at a time gives
 * the same tokens as feeding everything at once.
 */
#include <string.h>

#include "common/alloc-int.h"
#include "json/lexer-int.h"

enum {
    ST_START = QK_LX_START,
    ST_RECOVERY = QK_LX_RECOVERY,
    ST_DQ = QK_LX_DQ,
    ST_DQ_ESC = QK_LX_DQ_ESC,
    ST_SQ = QK_LX_SQ,
    ST_SQ_ESC = QK_LX_SQ_ESC,
    ST_SIGN = QK_LX_SIGN,
    ST_ZERO = QK_LX_ZERO,
    ST_DIGITS = QK_LX_DIGITS,
    ST_MANT = QK_LX_MANT,
    ST_MANT_DIGITS = QK_LX_MANT_DIGITS,
    ST_EXP_E = QK_LX_EXP_E,
    ST_EXP_SIGN = QK_LX_EXP_SIGN,
    ST_EXP_DIGITS = QK_LX_EXP_DIGITS,
    ST_KEYWORD = QK_LX_KEYWORD,
};

const uint8_t qk_lexer_continues[QK_LX_KEYWORD + 1][256] = {
    [ST_START] = {[' '] = 2, ['\t'] = 2, ['\r'] = 2, ['\n'] = 3},
    [ST_DQ] = {[0x20 ... 0x21] = 1, [0x23 ... 0x5B] = 1, [0x5D ... 0xFD] = 1},
    [ST_SQ] = {[0x20 ... 0x26] = 1, [0x28 ... 0x5B] = 1, [0x5D ... 0xFD] = 1},
    [ST_DIGITS] = {['0' ... '9'] = 1},
    [ST_MANT_DIGITS] = {['0' ... '9'] = 1},
    [ST_EXP_DIGITS] = {['0' ... '9'] = 1},
    [ST_KEYWORD] = {['a' ... 'z'] = 1},
};

const uint8_t qk_lexer_begins[2][256] = {
    {['"'] = ST_DQ + 1, ['-'] = ST_SIGN + 1, ['0'] = ST_ZERO + 1,
     ['1' ... '9'] = ST_DIGITS + 1, ['a' ... 'z'] = ST_KEYWORD + 1},
    {['"'] = ST_DQ + 1, ['\''] = ST_SQ + 1, ['-'] = ST_SIGN + 1,
     ['0'] = ST_ZERO + 1, ['1' ... '9'] = ST_DIGITS + 1,
     ['a' ... 'z'] = ST_KEYWORD + 1},
};

/* Bytes a string takes without a second look: 0x20..0xFD except the
 * backslash and the closing quote. */
static const uint8_t dq_plain[256] = {
    [0x20 ... 0x21] = 1, /* '"' is 0x22 */
    [0x23 ... 0x5B] = 1, /* '\\' is 0x5C */
    [0x5D ... 0xFD] = 1,
};
static const uint8_t sq_plain[256] = {
    [0x20 ... 0x26] = 1, /* '\'' is 0x27 */
    [0x28 ... 0x5B] = 1,
    [0x5D ... 0xFD] = 1,
};
/* Where recovery stops: structural characters, controls but TAB, FE, FF. */
static const uint8_t resync[256] = {
    [0x00 ... 0x08] = 1, [0x0A ... 0x1F] = 1, ['{'] = 1, ['}'] = 1,
    ['['] = 1,           [']'] = 1,           [':'] = 1, [','] = 1,
    [0xFE] = 1,          [0xFF] = 1,
};

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

void qk_lexer_init(qk_lexer *lx, bool qmp, size_t max_token)
{
    memset(lx, 0, sizeof *lx);
    lx->qmp = qmp;
    lx->max_token = max_token;
    lx->line = 1;
}

void qk_lexer_reset(qk_lexer *lx)
{
    lx->state = ST_START;
    qk_buf_clear(&lx->tok);
}

void qk_lexer_free(qk_lexer *lx)
{
    qk_buf_free(&lx->tok);
}

void qk_lexer_position(const qk_lexer *lx, size_t offset, unsigned *line,
                       unsigned *column)
{
    *line = lx->line;
    *column = offset >= lx->line_start
                  ? (unsigned)(offset - lx->line_start + 1)
                  : 1;
}

/* Hands out the token made of the saved bytes plus d[ts..end). */
static int finish_token(qk_lexer *lx, qk_tok_type type, const uint8_t *d,
                        size_t ts, size_t end, size_t base, qk_tok *tok)
{
    tok->type = type;
    tok->offset = base + end - 1;
    if (lx->tok.len == 0) {
        tok->text = (const char *)d + ts;
        tok->len = end - ts;
        return 0;
    }
    if (end - ts < lx->tok.cap - lx->tok.len) { /* room: skip the call */
        memcpy(lx->tok.data + lx->tok.len, d + ts, end - ts);
        lx->tok.len += end - ts;
    } else if (qk_buf_append(&lx->tok, d + ts, end - ts) < 0) {
        qk_buf_clear(&lx->tok);
        return QK_ERR_NOMEM;
    }
    tok->text = lx->tok.data;
    tok->len = lx->tok.len;
    return 0;
}

int qk_lexer_scan(qk_lexer *lx, const uint8_t *d, size_t len, size_t *pos,
                  qk_tok *tok)
{
    size_t i = *pos;
    const size_t base = lx->offset - i;
    size_t ts = i; /* where the current token's bytes begin in d */
    int st = lx->state;
    const uint8_t *digits = qk_lexer_continues[ST_DIGITS];
    const uint8_t *letters = qk_lexer_continues[ST_KEYWORD];
    qk_tok_type type;
    uint8_t c;
    int rc;

    /* The previous token's text lived in lx->tok until now. */
    if ((st == ST_START || st == ST_RECOVERY) && lx->tok.len) {
        lx->tok.len = 0;
        lx->tok.data[0] = 0;
    }

/* Bytes the current token may still take before it is cut. */
#define ROOM() (lx->max_token + 1 - lx->tok.len - (i - ts))
/* After consuming a byte that did not end the token: cut it if too long. */
#define CHECK_CUT()                                                          \
    do {                                                                     \
        if (lx->tok.len + (i - ts) > lx->max_token)                          \
            goto oversize;                                                   \
    } while (0)

/* Takes the run of bytes of class cls (a qk_lexer_continues row) while the
 * token has room; leaves the chunk if it ends there. */
#define TAKE_RUN(cls)                                                        \
    do {                                                                     \
        size_t room_ = ROOM(), lim_ = len - i < room_ ? len : i + room_;     \
        while (i < lim_ && (cls)[d[i]])                                      \
            i++;                                                             \
        CHECK_CUT();                                                         \
        if (i == len)                                                        \
            goto out_partial;                                                \
    } while (0)

    for (;;) {
        switch (st) {
        case ST_START:
            while (i < len) {
                c = d[i];
                if (c == ' ' || c == '\t' || c == '\r') {
                    i++;
                } else if (c == '\n') {
                    i++;
                    lx->line++;
                    lx->line_start = base + i;
                } else {
                    break;
                }
            }
            if (i == len)
                goto out_empty;
            ts = i;
            c = d[i++];
            switch (c) {
            case '{': type = QK_TOK_LCURLY; goto emit;
            case '}': type = QK_TOK_RCURLY; goto emit;
            case '[': type = QK_TOK_LSQUARE; goto emit;
            case ']': type = QK_TOK_RSQUARE; goto emit;
            case ':': type = QK_TOK_COLON; goto emit;
            case ',': type = QK_TOK_COMMA; goto emit;
            case '"': st = ST_DQ; break;
            case '\'':
                if (!lx->qmp)
                    goto stray;
                st = ST_SQ;
                break;
            case '-': st = ST_SIGN; break;
            case '0': st = ST_ZERO; break;
            default:
                if (c >= '1' && c <= '9')
                    st = ST_DIGITS;
                else if (c >= 'a' && c <= 'z')
                    st = ST_KEYWORD;
                else
                    goto stray;
            }
            CHECK_CUT();
            continue;

        case ST_RECOVERY:
            while (i < len && !resync[d[i]])
                i++;
            if (i == len)
                goto out_empty;
            st = ST_START; /* the resync byte is lexed again */
            continue;

        case ST_DQ:
        case ST_SQ: {
            const uint8_t *plain = st == ST_DQ ? dq_plain : sq_plain;
            size_t room = ROOM(), lim = len - i < room ? len : i + room;
            while (i < lim && plain[d[i]])
                i++;
            if (i == lim) {
                CHECK_CUT();
                goto out_partial;
            }
            c = d[i++];
            if (c == '\\') {
                st = st == ST_DQ ? ST_DQ_ESC : ST_SQ_ESC;
                CHECK_CUT();
                continue;
            }
            if (c == (st == ST_DQ ? '"' : '\'')) {
                type = QK_TOK_STRING;
                goto emit;
            }
            goto stray; /* a control byte, 0xFE or 0xFF */
        }

        case ST_DQ_ESC:
        case ST_SQ_ESC:
            if (i == len)
                goto out_partial;
            c = d[i++];
            if (c < 0x20 || c > 0xFD)
                goto stray;
            st = st == ST_DQ_ESC ? ST_DQ : ST_SQ;
            CHECK_CUT();
            continue;

        case ST_SIGN:
            if (i == len)
                goto out_partial;
            c = d[i++];
            if (c == '0')
                st = ST_ZERO;
            else if (c >= '1' && c <= '9')
                st = ST_DIGITS;
            else
                goto stray;
            CHECK_CUT();
            continue;

        case ST_ZERO:
        case ST_DIGITS:
            if (st == ST_DIGITS)
                TAKE_RUN(digits);
            if (i == len)
                goto out_partial;
            c = d[i];
            if (is_digit(c)) { /* only after a leading zero */
                i++;
                goto stray;
            }
            if (c == '.') {
                i++;
                st = ST_MANT;
            } else if (c == 'e' || c == 'E') {
                i++;
                st = ST_EXP_E;
            } else {
                type = QK_TOK_INTEGER;
                goto emit;
            }
            CHECK_CUT();
            continue;

        case ST_MANT:
        case ST_EXP_SIGN: /* a digit must follow '.' or the exponent sign */
            if (i == len)
                goto out_partial;
            if (!is_digit(d[i++]))
                goto stray;
            st = st == ST_MANT ? ST_MANT_DIGITS : ST_EXP_DIGITS;
            CHECK_CUT();
            continue;

        case ST_MANT_DIGITS:
            TAKE_RUN(digits);
            c = d[i];
            if (c == 'e' || c == 'E') {
                i++;
                st = ST_EXP_E;
                CHECK_CUT();
                continue;
            }
            type = QK_TOK_FLOAT;
            goto emit;

        case ST_EXP_E:
            if (i == len)
                goto out_partial;
            c = d[i++];
            if (c == '+' || c == '-')
                st = ST_EXP_SIGN;
            else if (is_digit(c))
                st = ST_EXP_DIGITS;
            else
                goto stray;
            CHECK_CUT();
            continue;

        case ST_EXP_DIGITS:
            TAKE_RUN(digits);
            type = QK_TOK_FLOAT;
            goto emit;

        case ST_KEYWORD:
            TAKE_RUN(letters);
            type = QK_TOK_KEYWORD;
            goto emit;
        }
    }

stray:
    /* The offending byte (d[i-1]) belongs to the stray text. */
    if (d[i - 1] == '\n') {
        lx->line++;
        lx->line_start = base + i;
    }
    type = QK_TOK_STRAY;
    st = ST_RECOVERY;
    goto out_token;

oversize:
    type = QK_TOK_OVERSIZE;
    st = ST_START;
    goto out_token;

emit:
    st = ST_START;
out_token:
    rc = finish_token(lx, type, d, ts, i, base, tok);
    lx->state = st;
    *pos = i;
    lx->offset = base + i;
    if (rc < 0) {
        lx->state = ST_RECOVERY;
        return rc;
    }
    return type;

out_partial:
    /* The chunk ended inside a token: keep its bytes for the next one. */
    *pos = i;
    lx->offset = base + i;
    if (i - ts < lx->tok.cap - lx->tok.len) { /* room: skip the call */
        memcpy(lx->tok.data + lx->tok.len, d + ts, i - ts);
        lx->tok.len += i - ts;
    } else if (qk_buf_append(&lx->tok, d + ts, i - ts) < 0) {
        qk_buf_clear(&lx->tok);
        lx->state = ST_RECOVERY;
        return QK_ERR_NOMEM;
    }
    lx->state = st;
    return QK_TOK_NONE;

out_empty:
    *pos = i;
    lx->offset = base + i;
    lx->state = st;
    return QK_TOK_NONE;
#undef ROOM
#undef CHECK_CUT
#undef TAKE_RUN
}

qk_tok_type qk_lexer_flush(qk_lexer *lx, qk_tok *tok)
{
    qk_tok_type type;

    switch (lx->state) {
    case ST_START:
    case ST_RECOVERY:
        lx->state = ST_START;
        qk_buf_clear(&lx->tok);
        return QK_TOK_NONE;
    case ST_ZERO:
    case ST_DIGITS: type = QK_TOK_INTEGER; break;
    case ST_MANT_DIGITS:
    case ST_EXP_DIGITS: type = QK_TOK_FLOAT; break;
    case ST_KEYWORD: type = QK_TOK_KEYWORD; break;
    default: type = QK_TOK_STRAY; break; /* an unfinished string or number */
    }
    /* The bytes are all in lx->tok; they stay valid until the next scan,
     * which clears them because the state is back to start. */
    lx->state = ST_START;
    tok->type = type;
    tok->text = lx->tok.data ? lx->tok.data : "";
    tok->len = lx->tok.len;
    tok->offset = lx->offset ? lx->offset - 1 : 0;
    return type;
}
