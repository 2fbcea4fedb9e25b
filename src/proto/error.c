/* SPDX-License-Identifier: MIT */
/*
 * qk_error: the error object behind every QMP error reply (class + text).
 * Setting an error cannot fail: out of memory yields a static error.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc-int.h"
#include "qmpkit/error.h"

struct qk_error {
    qk_error_class cls;
    bool is_static;
    char *desc;
};

static char oom_text[] = "out of memory";
static qk_error oom_error = {QK_ERROR_GENERIC, true, oom_text};

static const char *const class_names[] = {
    "GenericError", "CommandNotFound", "DeviceNotActive", "DeviceNotFound",
    "KVMMissingCap",
};

const char *qk_error_class_name(qk_error_class cls)
{
    if ((unsigned)cls >= sizeof class_names / sizeof class_names[0])
        return class_names[0];
    return class_names[cls];
}

int qk_error_class_from_name(const char *name, qk_error_class *out)
{
    for (unsigned i = 0; i < sizeof class_names / sizeof class_names[0]; i++) {
        if (name && strcmp(name, class_names[i]) == 0) {
            *out = (qk_error_class)i;
            return 0;
        }
    }
    *out = QK_ERROR_GENERIC;
    return QK_ERR_NOENT;
}

static void set_taken(qk_error **errp, qk_error_class cls, char *desc)
{
    if (!desc) {
        *errp = &oom_error;
        return;
    }
    qk_error *e = qk_malloc(sizeof *e);
    if (!e) {
        qk_free(desc);
        *errp = &oom_error;
        return;
    }
    e->cls = cls;
    e->is_static = false;
    e->desc = desc;
    *errp = e;
}

void qk_error_vsetg(qk_error **errp, qk_error_class cls, const char *fmt,
                    va_list ap)
{
    if (!errp || *errp)
        return;
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    char *desc = NULL;
    if (n >= 0) {
        desc = qk_malloc((size_t)n + 1);
        if (desc)
            vsnprintf(desc, (size_t)n + 1, fmt, ap);
    }
    set_taken(errp, cls, desc);
}

void qk_error_setg(qk_error **errp, qk_error_class cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qk_error_vsetg(errp, cls, fmt, ap);
    va_end(ap);
}

void qk_error_set_str(qk_error **errp, qk_error_class cls, const char *desc,
                      size_t len)
{
    if (!errp || *errp)
        return;
    set_taken(errp, cls, qk_strndup(desc, len));
}

qk_error_class qk_error_get_class(const qk_error *err)
{
    return err ? err->cls : QK_ERROR_GENERIC;
}

const char *qk_error_get_desc(const qk_error *err)
{
    return err ? err->desc : "";
}

void qk_error_free(qk_error *err)
{
    if (!err || err->is_static)
        return;
    qk_free(err->desc);
    qk_free(err);
}

void qk_error_propagate(qk_error **dst, qk_error *src)
{
    if (!src)
        return;
    if (!dst || *dst) {
        qk_error_free(src);
        return;
    }
    *dst = src;
}
