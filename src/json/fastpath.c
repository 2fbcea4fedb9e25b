/* SPDX-License-Identifier: MIT */
/*
 * The fast path: when the parser stands between messages and the caller's
 * buffer holds a whole, valid message, read it with tight loops instead of
 * token by token. It gives up on anything unusual (an error, a limit, the
 * end of the buffer, a number or keyword whose end it cannot see) and leaves
 * the message to the incremental path, which reads the same bytes and
 * gives QEMU's exact answer. It never runs twice over a message, so the
 * total work stays linear.
 */
#include <string.h>

#include "json/parser-int.h"
#include "json/scalar-int.h"
#include "json/value-int.h"
#include "json/value-layout-int.h"

/* String bytes needing no second look: printable ASCII and DEL, except the
 * backslash (and the closing quote, checked apart). */
static const uint8_t plain[256] = {
    [0x20 ... 0x5B] = 1, [0x5D ... 0x7F] = 1,
};
static const uint8_t space[256] = {
    [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1,
};

typedef struct fast {
    qk_json_parser *p;
    const uint8_t *d;
    size_t len, i;
    unsigned line;
    size_t line_start, base;
} fast;

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* A run of blanks: where it ends, and its newlines. */
typedef struct blanks {
    size_t end, newlines, last_newline;
} blanks;

/* Kept out of line (runs of blanks and newlines are rare), and away from
 * the fast struct so that it can live in registers. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static blanks skip_blanks(const uint8_t *d, size_t i, size_t len)
{
    blanks b = {i, 0, 0};
    while (i < len && space[d[i]]) {
        if (d[i] == '\n') {
            b.newlines++;
            b.last_newline = i;
        }
        i++;
    }
    b.end = i;
    return b;
}

static inline void skip_space(fast *f)
{
    const uint8_t *d = f->d;
    size_t i = f->i;
    if (i < f->len && d[i] > ' ')
        return; /* no blank at all */
    if (i + 1 < f->len && d[i] == ' ' && d[i + 1] > ' ') {
        f->i = i + 1; /* one space, as after QEMU's ':' and ',' */
        return;
    }
    blanks b = skip_blanks(d, i, f->len);
    f->i = b.end;
    if (b.newlines) {
        f->line += (unsigned)b.newlines;
        f->line_start = f->base + b.last_newline + 1;
    }
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Per byte of x: high bit set where the byte is zero, and possibly in
 * bytes above such a byte (borrows), so only the lowest one is exact. */
static inline uint64_t zero_bytes(uint64_t x)
{
    return (x - ONES) & ~x;
}

/* The first index >= i where d[i] is the closing quote or not a plain
 * string byte, or len. Eight bytes at a time: the lowest flagged byte of
 * the union of the tests is exact, as it is for each. */
static inline size_t scan_plain(const uint8_t *d, size_t i, size_t len,
                                uint8_t quote)
{
    while (i + 8 <= len) {
        uint64_t x;
        memcpy(&x, d + i, 8);
        uint64_t m = (x - ONES * 0x20) | x | /* < 0x20, >= 0x80 */
                     zero_bytes(x ^ (ONES * quote)) |
                     zero_bytes(x ^ (ONES * '\\'));
        m &= HIGHS;
        if (m)
            return i + ((unsigned)__builtin_ctzll(m) >> 3);
        i += 8;
    }
    while (i < len && plain[d[i]] && d[i] != quote)
        i++;
    return i;
}

static inline qk_json *string(fast *f)
{
    const uint8_t *d = f->d;
    size_t s = f->i, i = s + 1;
    uint8_t quote = d[s];
    bool escaped = false;

    for (;;) {
        i = scan_plain(d, i, f->len, quote);
        if (i == f->len)
            return NULL;
        uint8_t c = d[i++];
        if (c == quote)
            break;
        if (c == '\\') {
            if (i == f->len || d[i] < 0x20 || d[i] > 0xFD)
                return NULL;
            i++;
        } else if (c < 0x80 || c > 0xFD) {
            return NULL; /* a control byte, 0xFE or 0xFF */
        }
        escaped = true;
    }
    f->i = i;
    if (!escaped)
        return f->p->use_cache
                   ? qk_strcache_get(&f->p->strings, (const char *)d + s + 1,
                                     i - s - 2, f->len - s - 1)
                   : qk_json_string_new_len((const char *)d + s + 1, i - s - 2);
    qk_json *v;
    char msg[8];
    if (qk_scalar_string((const char *)d + s, i - s,
                         f->p->mode == QK_JSON_QMP, &v, msg, sizeof msg) < 0)
        return NULL;
    return v;
}

static inline qk_json *number(fast *f)
{
    const uint8_t *d = f->d;
    size_t s = f->i, i = s, len = f->len;
    bool neg = d[i] == '-', is_float = false;

    if (neg && ++i == len)
        return NULL;
    if (d[i] == '0') {
        i++;
    } else if (d[i] >= '1' && d[i] <= '9') {
        while (i < len && is_digit(d[i]))
            i++;
    } else {
        return NULL;
    }
    if (i == len || is_digit(d[i]))
        return NULL;
    if (d[i] == '.') {
        is_float = true;
        if (++i == len || !is_digit(d[i]))
            return NULL;
        while (i < len && is_digit(d[i]))
            i++;
        if (i == len)
            return NULL;
    }
    if (d[i] == 'e' || d[i] == 'E') {
        is_float = true;
        if (++i < len && (d[i] == '+' || d[i] == '-'))
            i++;
        if (i == len || !is_digit(d[i]))
            return NULL;
        while (i < len && is_digit(d[i]))
            i++;
        if (i == len)
            return NULL;
    }
    f->i = i;
    size_t ndig = i - s - neg;
    if (!is_float && ndig <= 18) {
        int64_t v = 0;
        for (size_t k = s + neg; k < i; k++)
            v = v * 10 + (d[k] - '0');
        return qk_json_int_new(neg ? -v : v);
    }
    qk_json *v;
    if (qk_scalar_number((const char *)d + s, i - s, is_float, &v) < 0)
        return NULL;
    return v;
}

static inline qk_json *keyword(fast *f)
{
    const uint8_t *d = f->d;
    size_t s = f->i, i = s;
    while (i < f->len && d[i] >= 'a' && d[i] <= 'z')
        i++;
    if (i == f->len)
        return NULL; /* the keyword may go on in the next chunk */
    qk_json *v;
    char msg[8];
    if (qk_scalar_keyword((const char *)d + s, i - s, &v, msg, sizeof msg) < 0)
        return NULL;
    f->i = i;
    return v;
}

/* Adds a complete value to the container of frame fr. */
static inline bool add(qk_parse_frame *fr, qk_json *v)
{
    if (fr->state != O_VALUE) {
        fr->state = A_SEP;
        qk_json_arr *a = QK_ARR(fr->container);
        if (a->len < a->u.cap) { /* room: no call */
            a->items[a->len++] = v;
            return true;
        }
        return qk_json_array_append_take(fr->container, v) == 0;
    }
    qk_json *key = fr->key;
    fr->key = NULL;
    fr->state = O_SEP;
    /* A repeated key is left to the incremental path. */
    return qk_parser_add_member(fr->container, key, v) == 0;
}

/* Opens a container; the innermost frame, or NULL on failure. */
static inline qk_parse_frame *open_container(qk_json_parser *p, bool object)
{
    qk_json *c = object ? qk_json_object_new() : qk_json_array_new();
    uint8_t state = object ? O_FIRST : A_FIRST;
    if (!c)
        return NULL;
    if (p->depth < p->stack_cap)
        p->stack[p->depth++] = (qk_parse_frame){c, NULL, state, false};
    else if (qk_parser_push(p, c, state, false) < 0)
        return NULL;
    return &p->stack[p->depth - 1];
}

int qk_json__fast_message(qk_json_parser *p, const uint8_t *d, size_t len,
                          size_t *used, qk_json **value)
{
    /* A message within this many bytes cannot reach the token size or
     * count limits (a token has at least one byte), so nothing needs
     * counting; a longer one is left to the incremental path. */
    size_t window = (p->max_size < p->max_count ? p->max_size : p->max_count) - 1;
    if (len > window)
        len = window;
    fast f = {p, d, len, 0, p->lx.line, p->lx.line_start, p->lx.offset};
    const bool qmp = p->mode == QK_JSON_QMP;
    const size_t max_depth = p->max_depth;
    qk_parse_frame *top = NULL; /* the innermost open container */
    qk_json *v;
    uint8_t c;

value:
    skip_space(&f);
value_here: /* at a non-blank, or the end */
    if (f.i == len)
        goto bail;
    c = d[f.i];
    if (c == '{' || c == '[') {
        if (p->depth + 1 > max_depth ||
            !(top = open_container(p, c == '{')))
            goto bail;
        f.i++;
        skip_space(&f);
        if (f.i == len)
            goto bail;
        if (d[f.i] == (c == '{' ? '}' : ']'))
            goto close;
        if (c == '{')
            goto key_here;
        goto value_here;
    }
    if (c == '"' || (c == '\'' && qmp))
        v = string(&f);
    else if (c == '-' || is_digit(c))
        v = number(&f);
    else if (c >= 'a' && c <= 'z')
        v = keyword(&f);
    else
        goto bail;
    if (!v)
        goto bail;

have_value:
    if (!top)
        goto done;
    if (!add(top, v))
        goto bail;
    skip_space(&f);
    if (f.i == len)
        goto bail;
    c = d[f.i];
    bool in_object = top->state == O_SEP;
    if (c == ',') {
        f.i++;
        if (in_object)
            goto key;
        goto value;
    }
    if (c != (in_object ? '}' : ']'))
        goto bail;

close:
    f.i++;
    v = top->container;
    p->depth--;
    top = p->depth ? top - 1 : NULL;
    goto have_value;

key:
    skip_space(&f);
key_here:
    if (f.i == len || !(d[f.i] == '"' || (d[f.i] == '\'' && qmp)))
        goto bail;
    v = string(&f);
    if (!v)
        goto bail;
    top->key = v;
    top->state = O_VALUE;
    skip_space(&f);
    if (f.i == len || d[f.i] != ':')
        goto bail;
    f.i++;
    goto value;

done:
    *value = v;
    *used = f.i;
    p->lx.offset = f.base + f.i;
    p->lx.line = f.line;
    p->lx.line_start = f.line_start;
    return 1;

bail:
    qk_parser_drop_stack(p);
    return 0;
}
