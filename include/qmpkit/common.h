/* SPDX-License-Identifier: MIT */
/*
 * qmpkit/common.h: what every part of qmpkit shares: the export macro,
 * error codes, the allocator hooks and a growable byte buffer.
 */
#ifndef QMPKIT_COMMON_H
#define QMPKIT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define QK_EXPORT __attribute__((visibility("default")))
#define QK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define QK_EXPORT
#define QK_PRINTF(f, a)
#endif

/*
 * Error codes. Functions that can fail return 0 (or a count) on success and
 * one of these (always negative) on failure.
 */
enum {
    QK_OK = 0,
    QK_ERR_NOMEM = -1,   /* an allocation failed; nothing leaked */
    QK_ERR_INVAL = -2,   /* an argument is invalid (wrong type, NULL, ...) */
    QK_ERR_RANGE = -3,   /* a number does not fit the requested type */
    QK_ERR_PARSE = -4,   /* input is not valid (details in the error struct) */
    QK_ERR_LIMIT = -5,   /* a configured limit was reached */
    QK_ERR_NOSPC = -6,   /* a caller's fixed buffer is too small */
    QK_ERR_NOENT = -7,   /* no such key, file or entry */
    QK_ERR_IO = -8,      /* a system call failed (errno kept) */
    QK_ERR_STATE = -9,   /* the call is not valid in the object's state */
};

/* A static English description of an error code; never NULL. */
QK_EXPORT const char *qk_strerror(int err);

/*
 * Allocator hooks. qmpkit allocates only through these. Set them once,
 * before any other qmpkit call and before any thread uses the library;
 * passing NULL restores malloc/realloc/free. realloc(p, 0) is never called;
 * free(NULL) may be.
 */
typedef struct qk_allocator {
    void *(*malloc)(size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
} qk_allocator;

QK_EXPORT void qk_set_allocator(const qk_allocator *a);

/*
 * A growable byte buffer. The fields are public for reading; change them only
 * through the functions below. data is NUL-terminated whenever cap > 0
 * (data[len] == 0), so text can be used as a C string.
 */
typedef struct qk_buf {
    char *data;
    size_t len;
    size_t cap;
} qk_buf;

#define QK_BUF_INIT {NULL, 0, 0}

/* Ensures room for extra more bytes (plus the NUL). QK_ERR_NOMEM on failure. */
QK_EXPORT int qk_buf_reserve(qk_buf *b, size_t extra);
/* Appends bytes; on failure the buffer is unchanged. */
QK_EXPORT int qk_buf_append(qk_buf *b, const void *data, size_t len);
QK_EXPORT int qk_buf_append_str(qk_buf *b, const char *s);
QK_EXPORT int qk_buf_append_char(qk_buf *b, char c);
QK_EXPORT int qk_buf_printf(qk_buf *b, const char *fmt, ...) QK_PRINTF(2, 3);
/* Empties the buffer, keeping its memory. */
QK_EXPORT void qk_buf_clear(qk_buf *b);
/* Hands the data to the caller (free with qk_free); the buffer becomes empty. */
QK_EXPORT char *qk_buf_steal(qk_buf *b, size_t *len);
/* Frees the memory; the buffer becomes empty and reusable. */
QK_EXPORT void qk_buf_free(qk_buf *b);

/* Frees memory that qmpkit handed to the caller (qk_buf_steal, writers). */
QK_EXPORT void qk_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_COMMON_H */
