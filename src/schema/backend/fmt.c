/* SPDX-License-Identifier: MIT */
/*
 * The back ends' printf, for their own formats only: %s, %.*s, %c, %d,
 * %ld, %zu and %%. glibc's vfprintf setup once dominated the profile, and
 * then scanning each format for its '%'s did: a format is now split into
 * pieces (a literal run, then one conversion) the first time it is seen
 * and the pieces are memoised by the format's address (memo.c).
 */
#include <stdint.h>
#include <string.h>

#include "schema/backend/gen-int.h"

typedef struct fmt_piece {
    const char *lit;    /* literal text before the conversion */
    uint32_t len;
    char conv;          /* 's', 'S' (%.*s), 'c', 'd', 'l', 'z'; 0: end */
} fmt_piece;

/* Splits FMT into pieces, in the pool. '%%' ends a piece's literal with
 * its first '%' so the next literal starts at the second one. */
static const fmt_piece *compile(gen *g, const char *fmt)
{
    size_t n = 1;
    for (const char *p = fmt; *p; p++)
        if (*p == '%') {
            n++;
            p++;
        }
    fmt_piece *pieces = galloc(g, n * sizeof(*pieces));
    if (!pieces)
        return NULL;
    fmt_piece *pc = pieces;
    const char *lit = fmt;
    for (const char *p = fmt;; p++) {
        if (*p && *p != '%')
            continue;
        pc->lit = lit;
        pc->len = (uint32_t)(p - lit);
        if (!*p) {
            pc->conv = 0;
            break;
        }
        switch (p[1]) {
        case '%':
            pc->len++;          /* the literal keeps one '%' */
            pc->conv = '%';     /* and nothing is converted */
            lit = p + 2;
            p++;
            break;
        case '.':               /* %.*s */
            pc->conv = 'S';
            lit = p + 4;
            p += 3;
            break;
        case 'l':               /* %ld */
        case 'z':               /* %zu */
            pc->conv = p[1];
            lit = p + 3;
            p += 2;
            break;
        default:                /* %s, %c, %d */
            pc->conv = p[1];
            lit = p + 2;
            p++;
            break;
        }
        pc++;
    }
    return pieces;
}

/* Appends N bytes; the common case, room left, stays inline. The
 * terminating NUL is left to the end of gvfmt. */
static inline int put(qk_buf *b, const char *s, size_t n)
{
    if (b->cap - b->len > n) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return 0;
    }
    return qk_buf_append(b, s, n);
}

/* Decimal digits of v (negative when neg) ending at end: their start. */
static char *put_num(char *end, unsigned long long v, bool neg)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg)
        *--p = '-';
    return p;
}

static unsigned long long mag(long long v)
{
    return v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
}

int gvfmt(gen *g, qk_buf *b, const char *fmt, va_list ap)
{
    const fmt_piece *pc = gmemo_get(&g->fmts, fmt, GMEMO_FMT);
    if (!pc) {
        pc = compile(g, fmt);
        if (!pc)
            return QK_ERR_NOMEM;
        gmemo_put(&g->fmts, fmt, GMEMO_FMT, (void *)pc);
    }
    int r = 0;
    for (;; pc++) {
        if (pc->len)
            r |= put(b, pc->lit, pc->len);
        char num[24], *end = num + sizeof(num), *p;
        const char *a;
        switch (pc->conv) {
        case 0:
            if (b->data)
                b->data[b->len] = 0;
            return r;
        case 's':
            a = va_arg(ap, const char *);
            r |= put(b, a, strlen(a));
            break;
        case 'S': {
            int n = va_arg(ap, int);
            a = va_arg(ap, const char *);
            r |= put(b, a, strnlen(a, (size_t)n));
            break;
        }
        case 'c':
            num[0] = (char)va_arg(ap, int);
            r |= put(b, num, 1);
            break;
        case 'd': {
            int v = va_arg(ap, int);
            p = put_num(end, mag(v), v < 0);
            r |= put(b, p, (size_t)(end - p));
            break;
        }
        case 'l': {
            long v = va_arg(ap, long);
            p = put_num(end, mag(v), v < 0);
            r |= put(b, p, (size_t)(end - p));
            break;
        }
        case 'z':
            p = put_num(end, va_arg(ap, size_t), false);
            r |= put(b, p, (size_t)(end - p));
            break;
        default: /* '%': the literal held it */
            break;
        }
    }
}
