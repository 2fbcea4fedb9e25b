/* SPDX-License-Identifier: MIT */
/*
 * qk_json_pack: builds a value from a short format and C arguments, so a
 * QMP message is one expression. The format language is documented in
 * qmpkit/json.h. The builder is iterative (a fixed stack of open
 * containers) and, whatever fails, still consumes every argument so that
 * each 'o' reference is released exactly once.
 */
#include <stdarg.h>
#include <string.h>

#include "common/alloc-int.h"
#include "json/value-layout-int.h"

#define PACK_MAX_DEPTH 128

typedef struct pack_arg {
    const char *s;
    size_t len;
    qk_json *v; /* the built scalar, or NULL */
} pack_arg;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' ||
           c == ',';
}

/* Consumes the arguments of the letter at *f (and a following '#'),
 * releasing an 'o' value; advances *f. */
static void skip_letter(const char **f, va_list *ap)
{
    char c = **f;
    (*f)++;
    switch (c) {
    case 's':
        (void)va_arg(*ap, const char *);
        if (**f == '#') {
            (*f)++;
            (void)va_arg(*ap, size_t);
        }
        break;
    case 'i':
    case 'b':
        (void)va_arg(*ap, int);
        break;
    case 'I':
        (void)va_arg(*ap, int64_t);
        break;
    case 'u':
        (void)va_arg(*ap, uint64_t);
        break;
    case 'f':
        (void)va_arg(*ap, double);
        break;
    case 'o':
        qk_json_unref(va_arg(*ap, qk_json *));
        break;
    case 'O':
        (void)va_arg(*ap, qk_json *);
        break;
    default:
        break; /* brackets, blanks and unknown letters take no argument */
    }
}

static void skip_rest(const char *f, va_list *ap)
{
    while (*f)
        skip_letter(&f, ap);
}

/* Reads the string argument of 's' or 's#'. False for a NULL string. */
static bool read_string(const char **f, va_list *ap, const char **s,
                        size_t *len)
{
    *s = va_arg(*ap, const char *);
    if (**f == '#') {
        (*f)++;
        *len = va_arg(*ap, size_t);
    } else if (*s) {
        *len = strlen(*s);
    }
    return *s != NULL;
}

qk_json *qk_json_vpack(const char *fmt, va_list ap_in)
{
    qk_json *stack[PACK_MAX_DEPTH];
    unsigned depth = 0;
    qk_json *root = NULL;
    const char *key = NULL;
    size_t klen = 0;
    bool have_key = false;
    const char *f = fmt;
    va_list ap;

    va_copy(ap, ap_in);
    if (!fmt)
        goto fail_noskip;
    for (;;) {
        while (is_blank(*f))
            f++;
        if (!*f)
            break;
        char c = *f;
        qk_json *top = depth ? stack[depth - 1] : NULL;

        if (top && top->type == QK_JSON_OBJECT && !have_key) {
            f++;
            if (c == '}') {
                depth--;
                continue;
            }
            if (c != 's') {
                f--;
                goto fail;
            }
            if (!read_string(&f, &ap, &key, &klen))
                goto fail;
            have_key = true;
            continue;
        }
        if (!top && root) {
            goto fail; /* text after the complete value */
        }

        qk_json *v = NULL;
        const char *s;
        size_t len = 0;
        f++;
        switch (c) {
        case '{':
            v = qk_json_object_new();
            break;
        case '[':
            v = qk_json_array_new();
            break;
        case ']':
            if (!top || top->type != QK_JSON_ARRAY)
                goto fail;
            depth--;
            continue;
        case 's':
            if (!read_string(&f, &ap, &s, &len))
                goto fail;
            v = qk_json_string_new_len(s, len);
            break;
        case 'i':
            v = qk_json_int_new(va_arg(ap, int));
            break;
        case 'I':
            v = qk_json_int_new(va_arg(ap, int64_t));
            break;
        case 'u':
            v = qk_json_uint_new(va_arg(ap, uint64_t));
            break;
        case 'f':
            v = qk_json_double_new(va_arg(ap, double));
            break;
        case 'b':
            v = qk_json_bool(va_arg(ap, int) != 0);
            break;
        case 'n':
            v = qk_json_null();
            break;
        case 'o':
            v = va_arg(ap, qk_json *);
            if (!v)
                goto fail;
            break;
        case 'O':
            v = qk_json_ref(va_arg(ap, qk_json *));
            if (!v)
                goto fail;
            break;
        default:
            f--;
            goto fail; /* '}' in an array, or an unknown letter */
        }
        if (!v)
            goto fail; /* out of memory */
        bool container = c == '{' || c == '[';
        if (container && depth == PACK_MAX_DEPTH) {
            qk_json_unref(v);
            goto fail;
        }
        int rc = 0;
        if (!top)
            root = v;
        else if (top->type == QK_JSON_ARRAY)
            rc = qk_json_array_append_take(top, v);
        else
            rc = qk_json_object_set_len_take(top, key, klen, v);
        have_key = false;
        if (rc < 0)
            goto fail;
        if (container)
            stack[depth++] = v; /* borrowed: its parent or root owns it */
    }
    if (depth || !root)
        goto fail;
    va_end(ap);
    return root;

fail:
    skip_rest(f, &ap);
fail_noskip:
    va_end(ap);
    qk_json_unref(root);
    return NULL;
}

qk_json *qk_json_pack(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qk_json *v = qk_json_vpack(fmt, ap);
    va_end(ap);
    return v;
}
