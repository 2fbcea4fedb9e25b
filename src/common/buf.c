/* SPDX-License-Identifier: MIT */
/* The growable byte buffer every writer and the protocol engine append to. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc-int.h"

int qk_buf_reserve(qk_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return QK_ERR_NOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = qk_grow_capacity(b->cap, need);
    char *d = qk_realloc(b->data, cap);
    if (!d)
        return QK_ERR_NOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int qk_buf_append(qk_buf *b, const void *data, size_t len)
{
    if (qk_buf_reserve(b, len) < 0)
        return QK_ERR_NOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

int qk_buf_append_str(qk_buf *b, const char *s)
{
    return qk_buf_append(b, s, strlen(s));
}

int qk_buf_append_char(qk_buf *b, char c)
{
    return qk_buf_append(b, &c, 1);
}

int qk_buf_printf(qk_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return QK_ERR_INVAL;
    if ((size_t)n < sizeof small)
        return qk_buf_append(b, small, (size_t)n);
    if (qk_buf_reserve(b, (size_t)n) < 0)
        return QK_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void qk_buf_clear(qk_buf *b)
{
    b->len = 0;
    if (b->cap)
        b->data[0] = 0;
}

char *qk_buf_steal(qk_buf *b, size_t *len)
{
    if (!b->data && qk_buf_reserve(b, 0) < 0)
        return NULL;
    char *d = b->data;
    if (len)
        *len = b->len;
    *b = (qk_buf)QK_BUF_INIT;
    return d;
}

void qk_buf_free(qk_buf *b)
{
    qk_free(b->data);
    *b = (qk_buf)QK_BUF_INIT;
}
