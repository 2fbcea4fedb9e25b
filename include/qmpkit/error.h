/* SPDX-License-Identifier: MIT */
/*
 * qmpkit/error.h: errors that become QMP error replies.
 *
 * A qk_error carries a class (QEMU's QapiErrorClass, whose names appear on
 * the wire) and a human-readable description. Command handlers, generated
 * marshallers and visitors take `qk_error **errp` as their last argument:
 * they set *errp on failure and leave it NULL on success. errp may be NULL
 * when the caller does not care.
 *
 * Setting an error never fails: if memory runs out, *errp gets a static
 * "out of memory" error of class GenericError, which qk_error_free accepts.
 */
#ifndef QMPKIT_ERROR_H
#define QMPKIT_ERROR_H

#include <stdarg.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* QapiErrorClass, in QEMU's order. The wire names are in the comments. */
typedef enum qk_error_class {
    QK_ERROR_GENERIC = 0,           /* "GenericError" */
    QK_ERROR_COMMAND_NOT_FOUND = 1, /* "CommandNotFound" */
    QK_ERROR_DEVICE_NOT_ACTIVE = 2, /* "DeviceNotActive" */
    QK_ERROR_DEVICE_NOT_FOUND = 3,  /* "DeviceNotFound" */
    QK_ERROR_KVM_MISSING_CAP = 4,   /* "KVMMissingCap" */
} qk_error_class;

typedef struct qk_error qk_error;

/* The wire name of a class ("GenericError" for unknown values). */
QK_EXPORT const char *qk_error_class_name(qk_error_class cls);
/* Looks up a wire name; QK_ERR_NOENT (and *out = GenericError) if unknown. */
QK_EXPORT int qk_error_class_from_name(const char *name, qk_error_class *out);

/*
 * Sets *errp to a new error with a printf-formatted description. Does
 * nothing if errp is NULL; keeps the first error if *errp is already set.
 */
QK_EXPORT void qk_error_setg(qk_error **errp, qk_error_class cls,
                             const char *fmt, ...) QK_PRINTF(3, 4);
QK_EXPORT void qk_error_vsetg(qk_error **errp, qk_error_class cls,
                              const char *fmt, va_list ap);
/* As qk_error_setg, with the description taken verbatim (len bytes). */
QK_EXPORT void qk_error_set_str(qk_error **errp, qk_error_class cls,
                                const char *desc, size_t len);

QK_EXPORT qk_error_class qk_error_get_class(const qk_error *err);
/* The description, NUL-terminated; borrowed from err. */
QK_EXPORT const char *qk_error_get_desc(const qk_error *err);

/* Frees an error. NULL is a no-op. */
QK_EXPORT void qk_error_free(qk_error *err);

/*
 * Moves src into *dst, as QEMU's error_propagate: if dst is NULL or *dst
 * is already set, src is freed. src may be NULL (nothing happens).
 */
QK_EXPORT void qk_error_propagate(qk_error **dst, qk_error *src);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_ERROR_H */
