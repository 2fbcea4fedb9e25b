/* SPDX-License-Identifier: MIT */
/*
 * Turning one scalar token into a value: strings (escapes and UTF-8
 * checks), numbers and keywords, with QEMU's rules and messages in QMP mode
 * (checklist 5.9) and RFC 8259's in strict mode.
 *
 * QMP mode follows QEMU's modified UTF-8: raw C0 80 is U+0000, and
 * noncharacters (U+FDD0..U+FDEF, U+xxFFFE/F) are rejected raw or escaped.
 * Strict mode takes standard UTF-8, noncharacters included.
 */
#include <stdarg.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc-int.h"
#include "json/scalar-int.h"
#include "json/value-int.h"

static bool is_noncharacter(uint32_t cp)
{
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

static bool is_surrogate(uint32_t cp)
{
    return cp >= 0xD800 && cp <= 0xDFFF;
}

/*
 * Decodes one raw multi-byte sequence starting at s (s < end, *s >= 0x80).
 * Returns the code point and sets *n to the bytes used, or -1.
 */
static long decode_utf8(const uint8_t *s, const uint8_t *end, bool qmp,
                        size_t *n)
{
    static const uint32_t min_cp[] = {0x80, 0x800, 0x10000, 0x200000,
                                      0x4000000};
    uint8_t b = *s;
    if (b >= 0xFE || !(b & 0x40))
        return -1; /* impossible byte, or a stray continuation byte */
    size_t len = 0;
    uint8_t mask;
    for (mask = 0x80; b & mask; mask >>= 1)
        len++;
    uint32_t cp = b & (mask - 1);
    for (size_t i = 1; i < len; i++) {
        if (s + i >= end || (s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *n = len;
    if (cp > 0x10FFFF || is_surrogate(cp))
        return -1;
    if (qmp) {
        if (is_noncharacter(cp))
            return -1;
        if (cp < min_cp[len - 2] && !(cp == 0 && len == 2))
            return -1;
    } else if (len > 4 || cp < min_cp[len - 2]) {
        return -1;
    }
    return cp;
}

static size_t encode_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Four hex digits at s (s + 4 <= end), or -1. */
static long hex4(const uint8_t *s, const uint8_t *end)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        if (s + i >= end)
            return -1;
        uint8_t c = s[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    return v;
}

static void set_msg(char *msg, size_t size, const char *fmt, ...)
    QK_PRINTF(3, 4);
static void set_msg(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

int qk_scalar_string(const char *text, size_t len, bool qmp, qk_json **out,
                     char *msg, size_t msgsize)
{
    const uint8_t *s = (const uint8_t *)text + 1;       /* past the quote */
    const uint8_t *end = (const uint8_t *)text + len - 1; /* the quote */
    const uint8_t *tok_end = (const uint8_t *)text + len;
    char *d;

    qk_json *v = qk_json__string_alloc(len - 2, &d);
    if (!v)
        return QK_ERR_NOMEM;
    char *const start = d;

    while (s < end) {
        /* Copy a run of plain ASCII at once. */
        const uint8_t *run = s;
        while (s < end && *s != '\\' && *s < 0x80)
            s++;
        memcpy(d, run, (size_t)(s - run));
        d += s - run;
        if (s == end)
            break;

        if (*s >= 0x80) {
            size_t n;
            long cp = decode_utf8(s, end, qmp, &n);
            if (cp < 0) {
                set_msg(msg, msgsize,
                        "JSON parse error, invalid UTF-8 sequence in string");
                goto fail;
            }
            if (cp == 0) {
                *d++ = 0; /* modified UTF-8 NUL */
            } else {
                memcpy(d, s, n);
                d += n;
            }
            s += n;
            continue;
        }

        const uint8_t *beg = s++; /* the backslash */
        uint8_t c = s < end ? *s++ : 0;
        switch (c) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '/': *d++ = '/'; break;
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case '\'':
            if (!qmp)
                goto bad_escape;
            *d++ = '\'';
            break;
        case 'u': {
            long cp = hex4(s, end);
            s += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && s + 1 < end && s[0] == '\\' &&
                s[1] == 'u') {
                long lo = hex4(s + 2, end);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp & 0x3FF) << 10) + (lo & 0x3FF);
                    s += 6;
                } else {
                    cp = -1;
                }
            }
            if (cp < 0 || is_surrogate((uint32_t)cp) ||
                (qmp && is_noncharacter((uint32_t)cp))) {
                /* QEMU quotes the escape as far as it read it. */
                const uint8_t *q = s < tok_end ? s : tok_end;
                set_msg(msg, msgsize,
                        "JSON parse error, %.*s is not a valid Unicode "
                        "character",
                        (int)(q - beg), (const char *)beg);
                goto fail;
            }
            d += encode_utf8((uint32_t)cp, d);
            break;
        }
        default:
        bad_escape:
            set_msg(msg, msgsize,
                    "JSON parse error, invalid escape sequence in string");
            goto fail;
        }
    }
    qk_json__string_set_len(v, (size_t)(d - start));
    *out = v;
    return 0;

fail:
    qk_json__string_set_len(v, 0);
    qk_json_unref(v);
    return QK_ERR_PARSE;
}

/* The "C" locale, so that strtod reads '.' whatever the process uses. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

double qk_strtod_c(const char *s, char **end)
{
    pthread_once(&c_locale_once, make_c_locale);
    if (!c_locale)
        return strtod(s, end);
    locale_t old = uselocale(c_locale);
    double d = strtod(s, end);
    uselocale(old);
    return d;
}

/* A number token as a NUL-terminated copy for strtod. */
static qk_json *number_as_double(const char *text, size_t len)
{
    char small[64];
    char *buf = small;
    if (len >= sizeof small) {
        buf = qk_malloc(len + 1);
        if (!buf)
            return NULL;
    }
    memcpy(buf, text, len);
    buf[len] = 0;
    double dv = qk_strtod_c(buf, NULL);
    if (buf != small)
        qk_free(buf);
    return qk_json_double_new(dv);
}

int qk_scalar_number(const char *text, size_t len, bool is_float,
                     qk_json **out)
{
    qk_json *v;

    if (!is_float) {
        /* int64 if it fits, else uint64 if non-negative, else double. */
        bool neg = text[0] == '-';
        uint64_t u = 0;
        bool overflow = false;
        for (size_t i = neg; i < len; i++) {
            unsigned dgt = (unsigned)(text[i] - '0');
            if (u > (UINT64_MAX - dgt) / 10) {
                overflow = true;
                break;
            }
            u = u * 10 + dgt;
        }
        if (!overflow && !neg) {
            v = qk_json_uint_new(u);
            goto done;
        }
        if (!overflow && u <= (uint64_t)INT64_MAX + 1) {
            v = qk_json_int_new(u == (uint64_t)INT64_MAX + 1
                                    ? INT64_MIN
                                    : -(int64_t)u);
            goto done;
        }
    }
    v = number_as_double(text, len);
done:
    if (!v)
        return QK_ERR_NOMEM;
    *out = v;
    return 0;
}

int qk_scalar_keyword(const char *text, size_t len, qk_json **out, char *msg,
                      size_t msgsize)
{
    if (len == 4 && !memcmp(text, "true", 4)) {
        *out = qk_json_bool(true);
    } else if (len == 5 && !memcmp(text, "false", 5)) {
        *out = qk_json_bool(false);
    } else if (len == 4 && !memcmp(text, "null", 4)) {
        *out = qk_json_null();
    } else {
        set_msg(msg, msgsize, "JSON parse error, invalid keyword '%.*s'",
                (int)(len > 200 ? 200 : len), text);
        return QK_ERR_PARSE;
    }
    return 0;
}
