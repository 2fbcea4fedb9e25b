/* SPDX-License-Identifier: MIT */
/*
 * The streaming JSON parser: tokens to messages (checklist 5.9).
 *
 * Two layers, as in QEMU, but without QEMU's token queue:
 *
 * - The streamer decides where a message ends. It counts '{' and '[' apart;
 *   a message ends at a token that leaves both counts at zero or makes one
 *   negative (so a scalar at top level is a message by itself, and so is a
 *   stray '}' ). Lexical errors end the message at once. Limits on token
 *   bytes, token count and nesting are checked per token in QEMU's order;
 *   a limit error drops the message and lexing goes on normally.
 *
 * - The grammar is a push-down version of QEMU's recursive descent: it
 *   builds values as tokens arrive and records the first error it meets,
 *   with the same text the recursive parser would give; the error is
 *   reported when the streamer ends the message.
 *
 * Everything is driven by the caller's chunks, so a value or an error is
 * handed out as soon as the byte that completes it arrives.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc-int.h"
#include "json/parser-int.h"
#include "json/scalar-int.h"
#include "json/value-int.h"

/* ---- errors -------------------------------------------------------- */

static void error_at(qk_json_parser *p, qk_json_error *err, int code,
                     size_t offset, const char *fmt, ...) QK_PRINTF(5, 6);
static void error_at(qk_json_parser *p, qk_json_error *err, int code,
                     size_t offset, const char *fmt, ...)
{
    va_list ap;
    err->code = code;
    err->offset = offset;
    qk_lexer_position(&p->lx, offset, &err->line, &err->column);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* Records the grammar's first error; later ones are ignored, as in QEMU. */
static void grammar_fail(qk_json_parser *p, const qk_tok *tok, const char *msg)
{
    if (p->failed)
        return;
    p->failed = true;
    error_at(p, &p->fail, QK_ERR_PARSE, tok->offset, "%s", msg);
}

/* ---- grammar ------------------------------------------------------- */

void qk_parser_drop_stack(qk_json_parser *p)
{
    while (p->depth) {
        qk_parse_frame *f = &p->stack[--p->depth];
        qk_json_unref(f->key);
        qk_json_unref(f->container);
    }
    qk_json_unref(p->result);
    p->result = NULL;
}

/* Forgets the message being read: counts, grammar and its error. */
static void end_message(qk_json_parser *p)
{
    p->braces = p->brackets = 0;
    p->token_bytes = p->tokens = 0;
    qk_parser_drop_stack(p);
    p->failed = false;
}

int qk_parser_push(qk_json_parser *p, qk_json *container, uint8_t state,
                   bool as_key)
{
    if (!container)
        return QK_ERR_NOMEM;
    if (p->depth == p->stack_cap) {
        size_t cap = p->stack_cap ? p->stack_cap * 2 : 32;
        qk_parse_frame *s = qk_realloc(p->stack, cap * sizeof *s);
        if (!s) {
            qk_json_unref(container);
            return QK_ERR_NOMEM;
        }
        p->stack = s;
        p->stack_cap = cap;
    }
    p->stack[p->depth++] = (qk_parse_frame){container, NULL, state, as_key};
    return 0;
}

/* A complete value goes to whatever is waiting for it. */
static int deliver(qk_json_parser *p, const qk_tok *tok, qk_json *v)
{
    if (!p->depth) {
        p->result = v;
        return 0;
    }
    qk_parse_frame *f = &p->stack[p->depth - 1];
    if (f->state == O_VALUE) {
        qk_json *key = f->key;
        f->key = NULL;
        if (p->mode == QK_JSON_STRICT &&
            qk_json_object_get_len(f->container, qk_json_string(key),
                                   qk_json_string_length(key))) {
            /* RFC 8259 allows repeated names: the last one wins. */
            f->state = O_SEP;
            int rc = qk_json_object_set_len_take(f->container,
                                                 qk_json_string(key),
                                                 qk_json_string_length(key), v);
            qk_json_unref(key);
            return rc;
        }
        int rc = qk_parser_add_member(f->container, key, v);
        if (rc == QK_ERR_INVAL) {
            grammar_fail(p, tok, "JSON parse error, duplicate key");
            return 0;
        }
        f->state = O_SEP;
        return rc;
    }
    f->state = A_SEP;
    return qk_json_array_append_take(f->container, v);
}

/* Short text with nothing to decode or check: ASCII, no backslash. */
static bool is_plain(const char *s, size_t n)
{
    if (n > QK_STRCACHE_MAXLEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80 || s[i] == '\\')
            return false;
    return true;
}

/* A scalar token's value, or a grammar error (returns 1). */
static int scalar(qk_json_parser *p, const qk_tok *tok, qk_json **v)
{
    char msg[sizeof p->fail.message];
    int rc;

    switch (tok->type) {
    case QK_TOK_STRING:
        if (p->use_cache && is_plain(tok->text + 1, tok->len - 2)) {
            *v = qk_strcache_get(&p->strings, tok->text + 1, tok->len - 2,
                                 tok->len - 1);
            return *v ? 0 : QK_ERR_NOMEM;
        }
        rc = qk_scalar_string(tok->text, tok->len, p->mode == QK_JSON_QMP, v,
                              msg, sizeof msg);
        break;
    case QK_TOK_INTEGER:
    case QK_TOK_FLOAT:
        rc = qk_scalar_number(tok->text, tok->len,
                              tok->type == QK_TOK_FLOAT, v);
        break;
    case QK_TOK_KEYWORD:
        rc = qk_scalar_keyword(tok->text, tok->len, v, msg, sizeof msg);
        break;
    default:
        grammar_fail(p, tok, "JSON parse error, expecting value");
        return 1;
    }
    if (rc == QK_ERR_PARSE) {
        grammar_fail(p, tok, msg);
        return 1;
    }
    return rc;
}

/* A token where a value must start (as_key: where a key must start). */
static int value_start(qk_json_parser *p, const qk_tok *tok, bool as_key)
{
    qk_json *v;
    int rc;

    if (tok->type == QK_TOK_LCURLY)
        return qk_parser_push(p, qk_json_object_new(), O_FIRST, as_key);
    if (tok->type == QK_TOK_LSQUARE)
        return qk_parser_push(p, qk_json_array_new(), A_FIRST, as_key);
    rc = scalar(p, tok, &v);
    if (rc)
        return rc < 0 ? rc : 0;
    if (!as_key)
        return deliver(p, tok, v);
    if (qk_json_is_string(v)) {
        qk_parse_frame *f = &p->stack[p->depth - 1];
        f->key = v;
        f->state = O_COLON;
        return 0;
    }
    qk_json_unref(v);
    grammar_fail(p, tok, "JSON parse error, key is not a string in object");
    return 0;
}

/* The innermost container is complete. */
static int close_container(qk_json_parser *p, const qk_tok *tok)
{
    qk_parse_frame f = p->stack[--p->depth];
    if (f.as_key) {
        qk_json_unref(f.container);
        grammar_fail(p, tok, "JSON parse error, key is not a string in object");
        return 0;
    }
    return deliver(p, tok, f.container);
}

static int grammar(qk_json_parser *p, const qk_tok *tok)
{
    if (!p->depth)
        return value_start(p, tok, false);

    qk_parse_frame *f = &p->stack[p->depth - 1];
    qk_tok_type t = tok->type;
    switch (f->state) {
    case A_FIRST:
        if (t == QK_TOK_RSQUARE)
            return close_container(p, tok);
        /* fall through */
    case A_VALUE:
    case O_VALUE:
        return value_start(p, tok, false);
    case A_SEP:
        if (t == QK_TOK_RSQUARE)
            return close_container(p, tok);
        if (t == QK_TOK_COMMA)
            f->state = A_VALUE;
        else
            grammar_fail(p, tok, "JSON parse error, expected separator in list");
        return 0;
    case O_FIRST:
        if (t == QK_TOK_RCURLY)
            return close_container(p, tok);
        /* fall through */
    case O_KEY:
        return value_start(p, tok, true);
    case O_COLON:
        if (t == QK_TOK_COLON)
            f->state = O_VALUE;
        else
            grammar_fail(p, tok, "JSON parse error, missing : in object pair");
        return 0;
    case O_SEP:
        if (t == QK_TOK_RCURLY)
            return close_container(p, tok);
        if (t == QK_TOK_COMMA)
            f->state = O_KEY;
        else
            grammar_fail(p, tok, "JSON parse error, expected separator in dict");
        return 0;
    }
    return 0;
}

/* ---- streamer ------------------------------------------------------ */

static int process_token(qk_json_parser *p, const qk_tok *tok,
                         qk_json **value, qk_json_error *err)
{
    switch (tok->type) {
    case QK_TOK_LCURLY: p->braces++; break;
    case QK_TOK_RCURLY: p->braces--; break;
    case QK_TOK_LSQUARE: p->brackets++; break;
    case QK_TOK_RSQUARE: p->brackets--; break;
    case QK_TOK_STRAY: {
        /* QEMU formats the partial token with %s: it stops at a NUL. */
        const char *nul = memchr(tok->text, 0, tok->len);
        size_t n = nul ? (size_t)(nul - tok->text) : tok->len;
        error_at(p, err, QK_ERR_PARSE, tok->offset,
                 "JSON parse error, stray '%.*s'", (int)(n > 200 ? 200 : n),
                 tok->text);
        end_message(p);
        return QK_JSON_ERROR;
    }
    default: break;
    }

    const char *limit = NULL;
    if (p->token_bytes + tok->len + 1 > p->max_size)
        limit = "JSON token size limit exceeded";
    else if (p->tokens + 1 > p->max_count)
        limit = "JSON token count limit exceeded";
    else if (p->braces + p->brackets > (long)p->max_depth)
        limit = "JSON nesting depth limit exceeded";
    if (limit) {
        error_at(p, err, QK_ERR_LIMIT, tok->offset, "%s", limit);
        end_message(p);
        return QK_JSON_ERROR;
    }
    p->token_bytes += tok->len;
    p->tokens++;

    if (!p->failed) {
        int rc = grammar(p, tok);
        if (rc < 0) {
            error_at(p, err, QK_ERR_NOMEM, tok->offset, "out of memory");
            end_message(p);
            return rc;
        }
    }

    if ((p->braces > 0 || p->brackets > 0) && p->braces >= 0 &&
        p->brackets >= 0)
        return QK_JSON_MORE;

    if (p->failed) {
        *err = p->fail;
        end_message(p);
        return QK_JSON_ERROR;
    }
    *value = p->result;
    p->result = NULL;
    end_message(p);
    return QK_JSON_VALUE;
}

/*
 * A ':' or ',' where the grammar expects it, with no error so far and no
 * limit near, only moves the innermost container on: the short way for
 * callers that feed byte by byte. False for anything else.
 */
static bool separator(qk_json_parser *p, const qk_tok *tok)
{
    if (p->failed || !p->depth || p->token_bytes + 2 > p->max_size ||
        p->tokens + 1 > p->max_count)
        return false;
    qk_parse_frame *f = &p->stack[p->depth - 1];
    if (tok->type == QK_TOK_COLON && f->state == O_COLON)
        f->state = O_VALUE;
    else if (tok->type == QK_TOK_COMMA && f->state == A_SEP)
        f->state = A_VALUE;
    else if (tok->type == QK_TOK_COMMA && f->state == O_SEP)
        f->state = O_KEY;
    else
        return false;
    p->token_bytes++;
    p->tokens++;
    return true;
}

/* ---- public interface ---------------------------------------------- */

static void parser_init(qk_json_parser *p, const qk_json_parser_config *cfg)
{
    qk_json_parser_config c = cfg ? *cfg : (qk_json_parser_config){0};
    memset(p, 0, sizeof *p);
    p->mode = c.mode;
    p->max_size = c.max_token_size ? c.max_token_size
                                   : QK_JSON_DEFAULT_MAX_TOKEN_SIZE;
    p->max_count = c.max_token_count ? c.max_token_count
                                     : QK_JSON_DEFAULT_MAX_TOKEN_COUNT;
    p->max_depth = c.max_depth ? c.max_depth : QK_JSON_DEFAULT_MAX_DEPTH;
    p->use_cache = true;
    qk_lexer_init(&p->lx, p->mode == QK_JSON_QMP, p->max_size);
    qk_defer_init(&p->dfr, p->mode == QK_JSON_QMP, p->max_size,
                  p->max_count);
}

static void parser_cleanup(qk_json_parser *p)
{
    end_message(p);
    qk_strcache_clear(&p->strings);
    qk_lexer_free(&p->lx);
    qk_defer_free(&p->dfr);
    qk_free(p->stack);
}

qk_json_parser *qk_json_parser_new(const qk_json_parser_config *cfg)
{
    qk_json_parser *p = qk_malloc(sizeof *p);
    if (p)
        parser_init(p, cfg);
    return p;
}

void qk_json_parser_free(qk_json_parser *p)
{
    if (!p)
        return;
    parser_cleanup(p);
    qk_free(p);
}

void qk_json_parser_reset(qk_json_parser *p)
{
    end_message(p);
    qk_lexer_reset(&p->lx);
    qk_defer_reset(&p->dfr);
}

/* Kept out of line so that the per-byte entry above stays small. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static int feed(qk_json_parser *p, const uint8_t *d, size_t len,
                size_t *consumed, qk_json **value, qk_json_error *err);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static int feed_general(qk_json_parser *p, const uint8_t *d, size_t len,
                        size_t *consumed, qk_json **value, qk_json_error *err);

int qk_json_parser_feed(qk_json_parser *p, const void *data, size_t len,
                        size_t *consumed, qk_json **value, qk_json_error *err)
{
    /* One byte that only continues a message being collected: the common
     * case when a caller feeds byte by byte, kept apart from the general
     * path's set-up. */
    if (len == 1 && qk_defer_absorb(&p->dfr, *(const uint8_t *)data)) {
        *value = NULL;
        if (consumed)
            *consumed = 1;
        return QK_JSON_MORE;
    }
    return feed(p, data, len, consumed, value, err);
}

/* Blanks between messages, with the lexer's position kept. */
static void skip_blanks(qk_json_parser *p, const uint8_t *d, size_t len,
                        size_t *pos)
{
    size_t i = *pos;
    while (i < len && qk_lexer_continues[QK_LX_START][d[i]] >= 2)
        qk_lexer_absorb(&p->lx, d[i++]);
    *pos = i;
}

int qk_parser_run(qk_json_parser *p, const uint8_t *d, size_t len,
                  size_t *ppos, qk_json **value, qk_json_error *err,
                  bool quick)
{
    size_t pos = *ppos;
    int rc = QK_JSON_MORE;

    while (rc == QK_JSON_MORE) {
        qk_tok tok;
        /* Between messages, try to read the next one in one go, or collect
         * it if it goes on past this chunk. */
        if (quick && !p->tokens && qk_lexer_idle(&p->lx) && pos < len) {
            size_t used;
            if (len - pos > 1 &&
                qk_json__fast_message(p, d + pos, len - pos, &used, value)) {
                pos += used;
                rc = QK_JSON_VALUE;
                break;
            }
            skip_blanks(p, d, len, &pos);
            if (pos < len && (d[pos] == '{' || d[pos] == '[')) {
                rc = qk_defer_begin(p, d, len, &pos, value, err);
                if (rc != QK_JSON_MORE || pos == len)
                    break;
                /* The detector stopped: d[pos] is for the lexer. */
            }
        }
        int t = qk_lexer_scan(&p->lx, d, len, &pos, &tok);
        if (t < 0) {
            error_at(p, err, QK_ERR_NOMEM, p->lx.offset, "out of memory");
            end_message(p);
            rc = t;
        } else if (t == QK_TOK_NONE) {
            break;
        } else {
            rc = process_token(p, &tok, value, err);
            if (pos == len)
                break;
        }
    }
    *ppos = pos;
    return rc;
}

static int feed(qk_json_parser *p, const uint8_t *d, size_t len,
                size_t *consumed, qk_json **value, qk_json_error *err)
{
    /* Byte by byte: a bracket inside a message being collected, or a byte
     * that only continues a token; before the general path's set-up. */
    if (len == 1 && (p->dfr.st == QK_DF_OFF
                         ? qk_lexer_absorb(&p->lx, *d)
                         : qk_defer_bracket(&p->dfr, *d, p->max_depth))) {
        *value = NULL;
        if (consumed)
            *consumed = 1;
        return QK_JSON_MORE;
    }
    return feed_general(p, d, len, consumed, value, err);
}

static int feed_general(qk_json_parser *p, const uint8_t *d, size_t len,
                        size_t *consumed, qk_json **value, qk_json_error *err)
{
    size_t pos = 0;
    qk_json_error scratch;
    int rc;

    *value = NULL;
    if (!err)
        err = &scratch;
    qk_tok one;
    if (p->dfr.st != QK_DF_OFF) {
        /* Collecting a message, or replaying collected bytes first. */
        rc = qk_defer_feed(p, d, len, &pos, value, err);
        if (rc != QK_JSON_MORE || pos == len)
            goto out;
    } else if (len == 1 &&
               ((p->tokens && qk_lexer_structural(&p->lx, d, &one)) ||
                qk_lexer_close_string(&p->lx, d, &one))) {
        /* A structural byte inside a message, or the end of a string:
         * straight to the streamer. */
        pos = 1;
        rc = separator(p, &one) ? QK_JSON_MORE
                                : process_token(p, &one, value, err);
        goto out;
    }
    rc = qk_parser_run(p, d, len, &pos, value, err, true);
out:
    if (consumed)
        *consumed = pos;
    return rc;
}

int qk_json_parser_finish(qk_json_parser *p, qk_json **value,
                          qk_json_error *err)
{
    qk_json_error scratch;
    qk_tok tok;

    if (!err)
        err = &scratch;
    *value = NULL;
    int rc = qk_defer_flush(p, value, err);
    if (rc != QK_JSON_MORE)
        return rc;
    if (qk_lexer_flush(&p->lx, &tok) != QK_TOK_NONE) {
        rc = process_token(p, &tok, value, err);
        if (rc != QK_JSON_MORE)
            return rc;
    }
    if (p->tokens) {
        if (p->failed)
            *err = p->fail;
        else
            error_at(p, err, QK_ERR_PARSE, p->lx.offset,
                     "JSON parse error, premature EOI");
        end_message(p);
        return QK_JSON_ERROR;
    }
    return QK_JSON_MORE;
}

qk_json *qk_json_parse(const char *text, size_t len, qk_json_mode mode,
                       qk_json_error *err)
{
    qk_json_parser_config cfg = {.mode = mode};
    qk_json_error scratch;
    qk_json *result = NULL, *v;
    size_t pos = 0, used;
    int rc;

    if (!err)
        err = &scratch;
    qk_json_parser parser, *p = &parser;
    parser_init(p, &cfg);
    /* Sharing strings pays off only when there are many of them. */
    p->use_cache = len >= 4096;
    if (p->use_cache)
        qk_strcache_size_for(&p->strings, len);
    /* The first message must be a value and the only one. */
    for (;;) {
        if (pos < len) {
            rc = qk_json_parser_feed(p, text + pos, len - pos, &used, &v, err);
            pos += used;
        } else {
            rc = qk_json_parser_finish(p, &v, err);
            if (rc == QK_JSON_MORE)
                break;
        }
        if (rc == QK_JSON_MORE)
            continue;
        if (rc == QK_JSON_VALUE && !result) {
            result = v;
            continue;
        }
        if (rc == QK_JSON_VALUE || (rc == QK_JSON_ERROR && result)) {
            qk_json_unref(v);
            error_at(p, err, QK_ERR_PARSE, p->lx.offset ? p->lx.offset - 1 : 0,
                     "Expecting at most one JSON value");
        }
        qk_json_unref(result);
        result = NULL;
        goto out;
    }
    if (!result)
        error_at(p, err, QK_ERR_PARSE, pos, "JSON parse error, expecting value");
out:
    parser_cleanup(p);
    return result;
}
