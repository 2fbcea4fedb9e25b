/* SPDX-License-Identifier: MIT */
/*
 * The JSON writer: QEMU's compact and pretty monitor forms (checklist 5.1,
 * "Output (QMP monitor)"), pure ASCII output, exact integers and doubles
 * that read back to the same bits.
 *
 * It walks the tree with an explicit stack, so any nesting depth is written
 * without deep recursion. Output goes through a window [p, end): a qk_buf
 * that grows, or a caller's fixed buffer; once that is full the writer
 * keeps going in a small scratch window only to count the length, so
 * qk_json_write_fixed reports the exact size needed without allocating.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc-int.h"
#include "json/value-layout-int.h"

/* ---- output window ----------------------------------------------------- */

enum { W_BUF, W_FIXED, W_OVER };

/* No single reservation is larger than this (strings and indentation are
 * written in pieces). */
#define W_SCRATCH 4096
#define STR_CHUNK 512                      /* input bytes per reservation */
#define STR_CHUNK_OUT ((STR_CHUNK + 3) * 6 + 8) /* worst-case output of a chunk */
#define INDENT_CHUNK 1024

typedef struct wr {
    char *end;
    int mode;
    qk_buf *buf;
    char *fbuf;    /* fixed: the caller's buffer */
    size_t fcap;   /* fixed: usable bytes (size - 1) */
    size_t fpos;   /* fixed: bytes stored in fbuf so far (W_OVER) */
    size_t counted; /* W_OVER: bytes produced before the scratch window */
    char scratch[W_SCRATCH];
} wr;

/* Moves the scratch contents to the caller's buffer (as far as they fit)
 * and counts them. */
static char *over_flush(wr *w, char *p)
{
    size_t k = (size_t)(p - w->scratch);
    size_t room = w->fcap - w->fpos;
    size_t copy = k < room ? k : room;
    if (copy)
        memcpy(w->fbuf + w->fpos, w->scratch, copy);
    w->fpos += copy;
    w->counted += k;
    return w->scratch;
}

/* Ensures n bytes of room at p; returns the (possibly moved) position, or
 * NULL when the buffer cannot grow. n <= W_SCRATCH. */
static char *need_slow(wr *w, char *p, size_t n)
{
    switch (w->mode) {
    case W_BUF: {
        qk_buf *b = w->buf;
        b->len = (size_t)(p - b->data);
        if (qk_buf_reserve(b, n) < 0)
            return NULL;
        w->end = b->data + b->cap - 1;
        return b->data + b->len;
    }
    case W_FIXED:
        w->fpos = (size_t)(p - w->fbuf);
        w->counted = w->fpos;
        w->mode = W_OVER;
        w->end = w->scratch + W_SCRATCH;
        return w->scratch;
    default:
        return over_flush(w, p);
    }
}

#define NEED(n)                                                               \
    do {                                                                      \
        if ((size_t)(end - p) < (size_t)(n)) {                                \
            p = need_slow(w, p, (n));                                         \
            if (!p)                                                           \
                goto nomem;                                                   \
            end = w->end;                                                     \
        }                                                                     \
    } while (0)

/* ---- numbers ----------------------------------------------------------- */

static const char digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "7475767778798081828384858687888990919293949596979899";

static char *fmt_u64(char *p, uint64_t v)
{
    char tmp[20];
    char *t = tmp + sizeof tmp;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        t -= 2;
        memcpy(t, digits2 + 2 * r, 2);
    }
    if (v >= 10) {
        t -= 2;
        memcpy(t, digits2 + 2 * v, 2);
    } else {
        *--t = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof tmp - t);
    memcpy(p, t, n);
    return p + n;
}

static char *fmt_i64(char *p, int64_t i)
{
    if (i < 0) {
        *p++ = '-';
        return fmt_u64(p, 0 - (uint64_t)i);
    }
    return fmt_u64(p, (uint64_t)i);
}

/*
 * The shortest of %.15g, %.16g and %.17g that strtod reads back to d (for
 * normal numbers no text with fewer significant digits exists when %.15g
 * fails; subnormals try every precision from 1). printf and strtod use the
 * same locale, so the round trip is checked in the caller's locale and the
 * decimal point is replaced by '.' afterwards. Writes at most 26 bytes.
 */
static size_t fmt_double(char *out, double d)
{
    if (isnan(d)) {
        memcpy(out, "null", 4);
        return 4;
    }
    if (isinf(d)) {
        if (d < 0) {
            memcpy(out, "-1e999", 6);
            return 6;
        }
        memcpy(out, "1e999", 5);
        return 5;
    }
    if (d == 0) {
        if (signbit(d)) {
            memcpy(out, "-0.0", 4);
            return 4;
        }
        memcpy(out, "0.0", 3);
        return 3;
    }
    /* Integral values below 1e15 print the same as %.15g, just faster. */
    if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d) {
        char *p = fmt_i64(out, (int64_t)d);
        memcpy(p, ".0", 2);
        return (size_t)(p + 2 - out);
    }
    char tmp[64];
    int prec = fabs(d) < DBL_MIN ? 1 : 15;
    for (;; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (prec >= 17 || strtod(tmp, NULL) == d)
            break;
    }
    size_t n = 0;
    bool point = false;
    for (const char *t = tmp; *t;) {
        char c = *t;
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e') {
            out[n++] = c;
            point |= c == 'e';
            t++;
        } else {
            /* the locale's decimal point, whatever its bytes */
            out[n++] = '.';
            point = true;
            while (*t && !(*t >= '0' && *t <= '9') && *t != 'e')
                t++;
        }
    }
    if (!point) {
        out[n++] = '.';
        out[n++] = '0';
    }
    return n;
}

/* ---- strings ----------------------------------------------------------- */

/*
 * What each byte needs: 0 copies as is; for ASCII the letter after the
 * backslash ('u' for \u00XX); 'U' for bytes >= 0x80 (UTF-8 to decode).
 */
static const char esc_tab[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    ['"'] = '"', ['\\'] = '\\', [0x7F] = 'u',
    [0x80] = 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
};

static const char hex_upper[16] = "0123456789ABCDEF";

static inline char *put_u16(char *p, unsigned cp)
{
    p[0] = '\\';
    p[1] = 'u';
    p[2] = hex_upper[(cp >> 12) & 15];
    p[3] = hex_upper[(cp >> 8) & 15];
    p[4] = hex_upper[(cp >> 4) & 15];
    p[5] = hex_upper[cp & 15];
    return p + 6;
}

#define BAD_CP 0xFFFDu

/*
 * Decodes one UTF-8 sequence at s (s < e, *s >= 0x80). Invalid input gives
 * U+FFFD for its maximal subpart (the longest prefix of a well-formed
 * sequence, or one byte): overlongs, surrogates, values above U+10FFFF,
 * stray continuation bytes and truncated sequences are all rejected.
 */
static inline unsigned utf8_decode(const unsigned char *s,
                                   const unsigned char *e, size_t *adv)
{
    unsigned c = s[0], cp, more;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        more = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        more = 2;
        cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        more = 3;
        cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        *adv = 1;
        return BAD_CP;
    }
    size_t k = 1;
    for (; k <= more; k++) {
        if (s + k >= e || s[k] < lo || s[k] > hi)
            break;
        cp = (cp << 6) | (s[k] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *adv = k;
    return k == more + 1 ? cp : BAD_CP;
}

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&  \
    (defined(__GNUC__) || defined(__clang__))
#define SWAR 1
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/*
 * High bit set in the lowest byte of x that needs escaping (bytes above it
 * may be flagged too). A byte is safe when 0x20 <= b <= 0x7E and it is not
 * '"' or '\\'; for such a byte none of the terms below sets bit 7, and a
 * borrow or carry into a byte only comes from a lower byte that is itself
 * flagged, so the lowest flag is exact.
 */
static inline uint64_t unsafe_bytes(uint64_t x)
{
    return (x - ONES * 0x20) | (x + ONES) | x | ((x ^ (ONES * '"')) - ONES) |
           ((x ^ (ONES * '\\')) - ONES);
}
#endif

#ifdef SWAR
/* The n < 8 bytes at s in a word, the missing high bytes filled with a
 * byte that needs no escaping; reads only inside [s, s + n). */
static inline uint64_t load_tail(const unsigned char *s, size_t n)
{
    uint64_t x;
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        x = lo | ((uint64_t)hi << ((n - 4) * 8));
    } else {
        x = s[0] | ((uint64_t)s[n >> 1] << ((n >> 1) * 8)) |
            ((uint64_t)s[n - 1] << ((n - 1) * 8));
    }
    uint64_t low = ~0ull >> ((8 - n) * 8);
    return (x & low) | (ONES * 'a' & ~low);
}
#endif

/*
 * Escapes the bytes [s, ce) (a UTF-8 sequence may run on up to e) at p,
 * which has room for 6 output bytes per input byte plus 8; returns the new
 * p and leaves the input position in *sp. Runs of bytes that need no
 * escaping are copied a word at a time.
 */
static ALWAYS_INLINE char *escape_run(char *p, const unsigned char **sp,
                               const unsigned char *ce, const unsigned char *e)
{
    const unsigned char *s = *sp;
    while (s < ce) {
#ifdef SWAR
        {
            uint64_t x, m;
            size_t n = (size_t)(ce - s);
            if (n >= 8) {
                memcpy(&x, s, 8);
                n = 8;
            } else {
                x = load_tail(s, n);
            }
            m = unsafe_bytes(x) & HIGHS;
            memcpy(p, &x, 8);
            if (!m) {
                p += n;
                s += n;
                continue;
            }
            unsigned k = (unsigned)__builtin_ctzll(m) >> 3;
            p += k;
            s += k;
        }
#endif
        unsigned c = *s;
        char t = esc_tab[c];
        if (!t) {
            *p++ = (char)c;
            s++;
        } else if (t == 'u') {
            p = put_u16(p, c);
            s++;
        } else if (t != 'U') {
            p[0] = '\\';
            p[1] = t;
            p += 2;
            s++;
        } else {
            size_t adv;
            unsigned cp = utf8_decode(s, e, &adv);
            s += adv;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                p = put_u16(p, 0xD800 + (cp >> 10));
                p = put_u16(p, 0xDC00 + (cp & 0x3FF));
            } else {
                p = put_u16(p, cp);
            }
        }
    }
    *sp = s;
    return p;
}

/* Room a short string needs: escapes, quotes and the word-copy slack. */
#define SHORT_STR_ROOM(len) ((len) * 6 + 12)

/* A string literal of len <= STR_CHUNK bytes; p has SHORT_STR_ROOM(len). */
static ALWAYS_INLINE char *put_short_str(char *p, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *e = s + len;
    *p++ = '"';
    p = escape_run(p, &s, e, e);
    *p++ = '"';
    return p;
}

/* The same for a string value: one under 8 bytes (most keys) is checked
 * and copied as a single word (its data area is padded, see
 * QK_JSON_STR_MIN_DATA). */
static ALWAYS_INLINE char *put_short_value(char *p, const qk_json_str *v)
{
#ifdef SWAR
    size_t len = v->len;
    if (len < 8) {
        uint64_t x;
        memcpy(&x, v->data, 8);
        uint64_t low = len ? ~0ull >> ((8 - len) * 8) : 0;
        x = (x & low) | (ONES * 'a' & ~low);
        if (!(unsafe_bytes(x) & HIGHS)) {
            p[0] = '"';
            memcpy(p + 1, &x, 8);
            p[1 + len] = '"';
            return p + 2 + len;
        }
    }
#endif
    return put_short_str(p, v->data, v->len);
}

/* Escapes len bytes at s as a JSON string literal. Long strings go in
 * chunks so that each reservation stays bounded. */
static char *write_str(wr *w, char *p, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *e = s + len;
    char *end = w->end;

    if (len <= STR_CHUNK) {
        NEED(SHORT_STR_ROOM(len));
        return put_short_str(p, str, len);
    }
    NEED(1);
    *p++ = '"';
    while (s < e) {
        const unsigned char *ce = (size_t)(e - s) > STR_CHUNK ? s + STR_CHUNK : e;
        NEED(STR_CHUNK_OUT);
        p = escape_run(p, &s, ce, e);
    }
    NEED(1);
    *p++ = '"';
    return p;
nomem:
    return NULL;
}

/* ---- the tree walk ----------------------------------------------------- */

static char *write_indent(wr *w, char *p, size_t depth)
{
    char *end = w->end;
    size_t n = depth * 4;
    NEED(1);
    *p++ = '\n';
    while (n) {
        size_t k = n < INDENT_CHUNK ? n : INDENT_CHUNK;
        NEED(k);
        memset(p, ' ', k);
        p += k;
        n -= k;
    }
    return p;
nomem:
    return NULL;
}

/* Writes a scalar, or an empty container (whose pretty form depends on
 * depth); NULL on failure. */
static inline char *write_leaf(wr *w, char *p, const qk_json *v, bool pretty,
                               size_t depth)
{
    char *end = w->end;
    switch (v->type) {
    case QK_JSON_NULL:
        NEED(4);
        memcpy(p, "null", 4);
        return p + 4;
    case QK_JSON_BOOL:
        NEED(5);
        if (v == &qk_json__true_value) {
            memcpy(p, "true", 4);
            return p + 4;
        }
        memcpy(p, "false", 5);
        return p + 5;
    case QK_JSON_INT:
        NEED(24);
        return fmt_i64(p, QK_CNUM(v)->v.i);
    case QK_JSON_UINT:
        NEED(24);
        return fmt_u64(p, QK_CNUM(v)->v.u);
    case QK_JSON_DOUBLE:
        NEED(32);
        return p + fmt_double(p, QK_CNUM(v)->v.d);
    case QK_JSON_STRING:
        if (QK_CSTR(v)->len <= STR_CHUNK) {
            NEED(SHORT_STR_ROOM(QK_CSTR(v)->len));
            return put_short_value(p, QK_CSTR(v));
        }
        return write_str(w, p, QK_CSTR(v)->data, QK_CSTR(v)->len);
    default: {
        const bool arr = v->type == QK_JSON_ARRAY;
        NEED(2);
        *p++ = arr ? '[' : '{';
        if (pretty) {
            p = write_indent(w, p, depth);
            if (!p)
                return NULL;
            end = w->end;
            NEED(1);
        }
        *p++ = arr ? ']' : '}';
        return p;
    }
    }
nomem:
    return NULL;
}

static inline bool is_open(const qk_json *v)
{
    return (v->type == QK_JSON_ARRAY && QK_CARR(v)->len) ||
           (v->type == QK_JSON_OBJECT && QK_COBJ(v)->len);
}

typedef struct wframe {
    const qk_json *c;
    size_t i; /* next item */
} wframe;

#define LOCAL_FRAMES 128

/*
 * Writes v through w, starting at p; returns the end position or NULL.
 * The loop writes the items of the innermost open container; scalars and
 * empty containers are written in place, a non-empty container is opened
 * and becomes the innermost.
 */
static char *write_tree(wr *w, char *p, const qk_json *v, unsigned flags)
{
    wframe local[LOCAL_FRAMES];
    wframe *st = local;
    size_t depth = 0, cap = LOCAL_FRAMES;
    const bool pretty = flags & QK_JSON_PRETTY;
    char *end = w->end;

    if (!is_open(v))
        return write_leaf(w, p, v, pretty, 0);
    NEED(1);
    *p++ = v->type == QK_JSON_ARRAY ? '[' : '{';
    st[depth++] = (wframe){v, 0};

/* The separator before item i and, when pretty, the newline and indent. */
#define SEPARATE(i)                                                          \
    do {                                                                     \
        NEED(2);                                                             \
        if (i) {                                                             \
            *p++ = ',';                                                      \
            if (!pretty)                                                     \
                *p++ = ' ';                                                  \
        }                                                                    \
        if (pretty) {                                                        \
            p = write_indent(w, p, depth);                                   \
            if (!p)                                                          \
                goto nomem;                                                  \
            end = w->end;                                                    \
        }                                                                    \
    } while (0)

    while (depth) {
        wframe *f = &st[depth - 1];
        const qk_json *c = f->c;
        const qk_json *child = NULL;
        size_t i = f->i;
        const bool is_array = c->type == QK_JSON_ARRAY;
        const size_t n = is_array ? QK_CARR(c)->len : QK_COBJ(c)->len;
        for (; i < n; i++) {
            const qk_json *x;
            SEPARATE(i);
            if (is_array) {
                x = QK_CARR(c)->items[i];
            } else {
                const qk_json_member *m = &QK_COBJ(c)->m[i];
                const qk_json_str *k = QK_CSTR(m->key);
                if (k->len <= STR_CHUNK) {
                    NEED(SHORT_STR_ROOM(k->len) + 2);
                    p = put_short_value(p, k);
                } else {
                    p = write_str(w, p, k->data, k->len);
                    if (!p)
                        goto nomem;
                    end = w->end;
                    NEED(2);
                }
                p[0] = ':';
                p[1] = ' ';
                p += 2;
                x = m->value;
            }
            if (is_open(x)) {
                child = x;
                i++;
                break;
            }
            p = write_leaf(w, p, x, pretty, depth);
            if (!p)
                goto nomem;
            end = w->end;
        }
        if (child) {
            f->i = i;
            if (depth == cap) {
                size_t ncap = cap * 2;
                wframe *nst;
                if (st == local) {
                    nst = qk_malloc(ncap * sizeof *nst);
                    if (nst)
                        memcpy(nst, local, sizeof local);
                } else {
                    nst = qk_realloc(st, ncap * sizeof *nst);
                }
                if (!nst)
                    goto nomem;
                st = nst;
                cap = ncap;
            }
            NEED(1);
            *p++ = child->type == QK_JSON_ARRAY ? '[' : '{';
            st[depth++] = (wframe){child, 0};
            continue;
        }
        depth--;
        if (pretty) {
            p = write_indent(w, p, depth);
            if (!p)
                goto nomem;
            end = w->end;
        }
        NEED(1);
        *p++ = c->type == QK_JSON_ARRAY ? ']' : '}';
    }
    if (st != local)
        qk_free(st);
    return p;
nomem:
    if (st != local)
        qk_free(st);
    return NULL;
}

/* ---- entry points ------------------------------------------------------ */

int qk_json_write(qk_buf *out, const qk_json *v, unsigned flags)
{
    if (!out || !v)
        return QK_ERR_INVAL;
    size_t start = out->len;
    if (qk_buf_reserve(out, 256) < 0)
        return QK_ERR_NOMEM;
    wr w; /* the scratch window is not used in this mode: no need to clear it */
    w.mode = W_BUF;
    w.buf = out;
    w.end = out->data + out->cap - 1;
    char *p = write_tree(&w, out->data + start, v, flags);
    if (!p) {
        out->len = start;
        out->data[start] = 0;
        return QK_ERR_NOMEM;
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = 0;
    return 0;
}

char *qk_json_to_string(const qk_json *v, unsigned flags, size_t *len)
{
    qk_buf b = QK_BUF_INIT;
    if (qk_json_write(&b, v, flags) < 0) {
        qk_buf_free(&b);
        return NULL;
    }
    return qk_buf_steal(&b, len);
}

int qk_json_write_fixed(const qk_json *v, unsigned flags, char *buf,
                        size_t size, size_t *needed)
{
    if (!v || (!buf && size))
        return QK_ERR_INVAL;
    wr w;
    w.buf = NULL;
    w.fbuf = buf;
    w.fpos = 0;
    w.counted = 0;
    char *p;
    if (size) {
        w.mode = W_FIXED;
        w.fcap = size - 1;
        w.end = buf + w.fcap;
        p = buf;
    } else {
        w.mode = W_OVER;
        w.fcap = 0;
        w.end = w.scratch + W_SCRATCH;
        p = w.scratch;
    }
    p = write_tree(&w, p, v, flags);
    if (!p) {
        if (size)
            buf[0] = 0;
        return QK_ERR_NOMEM; /* only for nesting deeper than 128 levels */
    }
    size_t total;
    if (w.mode == W_FIXED) {
        total = (size_t)(p - buf);
        buf[total] = 0;
    } else {
        over_flush(&w, p);
        total = w.counted;
        if (size)
            buf[w.fpos] = 0;
    }
    if (needed)
        *needed = total;
    return total < size ? 0 : QK_ERR_NOSPC;
}

int qk_json_write_string(qk_buf *out, const char *s, size_t len)
{
    if (!out || (!s && len))
        return QK_ERR_INVAL;
    size_t start = out->len;
    if (qk_buf_reserve(out, len + 2) < 0)
        return QK_ERR_NOMEM;
    wr w;
    w.mode = W_BUF;
    w.buf = out;
    w.end = out->data + out->cap - 1;
    char *p = write_str(&w, out->data + start, s ? s : "", len);
    if (!p) {
        out->len = start;
        out->data[start] = 0;
        return QK_ERR_NOMEM;
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = 0;
    return 0;
}
