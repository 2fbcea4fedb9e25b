/* SPDX-License-Identifier: MIT */
/*
 * qmpkit/json.h: the JSON value model, the streaming parser and the writer.
 *
 * Values are immutable once shared and refcounted with atomic counts, so a
 * value may be handed between threads. null, true and false are static and
 * never allocate. Numbers keep int64, uint64 and double apart: an integer
 * that fits int64 is always stored as int64, a larger non-negative one as
 * uint64, anything else as double.
 *
 * Ownership: a function whose name ends in _take consumes the reference it
 * is given, even when it fails. Getters return borrowed references. Every
 * constructor returns NULL only when memory runs out.
 */
#ifndef QMPKIT_JSON_H
#define QMPKIT_JSON_H

#include <stdarg.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_json qk_json;

typedef enum qk_json_type {
    QK_JSON_NULL,
    QK_JSON_BOOL,
    QK_JSON_INT,    /* int64_t */
    QK_JSON_UINT,   /* uint64_t above INT64_MAX */
    QK_JSON_DOUBLE, /* double (possibly infinite after parsing 1e400) */
    QK_JSON_STRING,
    QK_JSON_ARRAY,
    QK_JSON_OBJECT,
} qk_json_type;

/* ---- constructors ------------------------------------------------------ */

QK_EXPORT qk_json *qk_json_null(void);          /* static, never NULL */
QK_EXPORT qk_json *qk_json_bool(bool b);        /* static, never NULL */
QK_EXPORT qk_json *qk_json_int_new(int64_t i);
QK_EXPORT qk_json *qk_json_uint_new(uint64_t u); /* stored as int64 if it fits */
QK_EXPORT qk_json *qk_json_double_new(double d);
/* Copies a NUL-terminated string (NULL for a NULL s). The bytes are kept
 * as given (the writer replaces invalid UTF-8 by U+FFFD). */
QK_EXPORT qk_json *qk_json_string_new(const char *s);
/* Copies len bytes, which may include NUL bytes. */
QK_EXPORT qk_json *qk_json_string_new_len(const char *s, size_t len);
QK_EXPORT qk_json *qk_json_string_newf(const char *fmt, ...) QK_PRINTF(1, 2);
QK_EXPORT qk_json *qk_json_array_new(void);
QK_EXPORT qk_json *qk_json_object_new(void);

/*
 * Builds a value from a format, so a QMP message is one C expression:
 *
 *   qk_json_pack("{s:s, s:{s:i}, s:I}", "execute", "sleep",
 *                "arguments", "ms", 100, "id", (int64_t)7)
 *
 * Format letters: { } [ ] delimit objects and arrays; inside objects keys
 * are 's'. Values: s (const char *), s# (const char *, size_t), i (int),
 * I (int64_t), u (uint64_t), f (double), b (int, as bool), n (null),
 * o (qk_json *, consumed), O (qk_json *, a reference is added). Blanks,
 * ':' and ',' are ignored. Keys may also be 's#'; a repeated key keeps
 * the last value. A NULL string for 's' and a NULL 'o' or 'O' are errors;
 * formats nest at most 128 containers deep. Returns NULL on a bad format
 * or out of memory; every 'o' argument is consumed anyway.
 */
QK_EXPORT qk_json *qk_json_pack(const char *fmt, ...);
QK_EXPORT qk_json *qk_json_vpack(const char *fmt, va_list ap);

/* ---- references -------------------------------------------------------- */

/* Adds a reference and returns v (NULL stays NULL). Atomic. */
QK_EXPORT qk_json *qk_json_ref(qk_json *v);
/* Drops a reference; frees the value when it was the last. NULL is a no-op. */
QK_EXPORT void qk_json_unref(qk_json *v);

/* ---- inspection -------------------------------------------------------- */

/* The type; QK_JSON_NULL for a NULL pointer (the predicates below return
 * false for NULL). */
QK_EXPORT qk_json_type qk_json_typeof(const qk_json *v);
/* A static name: "null", "boolean", "integer", "number", "string", "array",
 * "object" (int, uint and double are "integer" or "number" as QMP says). */
QK_EXPORT const char *qk_json_type_name(const qk_json *v);
QK_EXPORT bool qk_json_is_null(const qk_json *v);
QK_EXPORT bool qk_json_is_bool(const qk_json *v);
QK_EXPORT bool qk_json_is_integer(const qk_json *v); /* INT or UINT */
QK_EXPORT bool qk_json_is_number(const qk_json *v);  /* INT, UINT or DOUBLE */
QK_EXPORT bool qk_json_is_string(const qk_json *v);
QK_EXPORT bool qk_json_is_array(const qk_json *v);
QK_EXPORT bool qk_json_is_object(const qk_json *v);

/* The boolean's value; false for anything that is not a boolean. */
QK_EXPORT bool qk_json_get_bool(const qk_json *v);
/*
 * Numeric getters convert only when no information is lost: an integer
 * must fit the target type, a double converts to an integer only if it is
 * integral and in range, an integer to a double only if it is exactly
 * representable. Return 0, QK_ERR_RANGE, or QK_ERR_INVAL (not a number).
 */
QK_EXPORT int qk_json_get_int64(const qk_json *v, int64_t *out);
QK_EXPORT int qk_json_get_uint64(const qk_json *v, uint64_t *out);
QK_EXPORT int qk_json_get_double(const qk_json *v, double *out);
/* The string's bytes, NUL-terminated; NULL if v is not a string. */
QK_EXPORT const char *qk_json_string(const qk_json *v);
/* The string's length in bytes; 0 if v is not a string. */
QK_EXPORT size_t qk_json_string_length(const qk_json *v);

/* ---- arrays ------------------------------------------------------------ */

QK_EXPORT size_t qk_json_array_size(const qk_json *a);
/* Borrowed element, or NULL when out of range or a is not an array. */
QK_EXPORT qk_json *qk_json_array_get(const qk_json *a, size_t i);
/*
 * Appends, adding a reference to v. QK_ERR_INVAL if a is not an array, v
 * is NULL or v is a itself; QK_ERR_NOMEM if the array cannot grow. A value
 * must not end up inside itself through other containers either (values
 * form trees or DAGs; nothing checks deeper cycles).
 */
QK_EXPORT int qk_json_array_append(qk_json *a, qk_json *v);
/* Appends, consuming v (also on failure). A NULL v (typically a failed
 * constructor) gives QK_ERR_NOMEM, so constructors can be passed inline. */
QK_EXPORT int qk_json_array_append_take(qk_json *a, qk_json *v);

/* ---- objects (insertion order kept, constant-time lookup) --------------- */

QK_EXPORT size_t qk_json_object_size(const qk_json *o);
/* Borrowed member value, or NULL. */
QK_EXPORT qk_json *qk_json_object_get(const qk_json *o, const char *key);
QK_EXPORT qk_json *qk_json_object_get_len(const qk_json *o, const char *key,
                                          size_t klen);
/* Sets a member, adding a reference to v. An existing key keeps its
 * position and gets the new value. QK_ERR_INVAL if o is not an object, key
 * or v is NULL, or v is o; QK_ERR_NOMEM. */
QK_EXPORT int qk_json_object_set(qk_json *o, const char *key, qk_json *v);
/* As above, consuming v (also on failure; a NULL v gives QK_ERR_NOMEM).
 * The _len form takes a key of klen bytes, which may include NUL bytes. */
QK_EXPORT int qk_json_object_set_take(qk_json *o, const char *key, qk_json *v);
QK_EXPORT int qk_json_object_set_len_take(qk_json *o, const char *key,
                                          size_t klen, qk_json *v);
/* Removes a member; QK_ERR_NOENT if absent, QK_ERR_INVAL if o is not an
 * object. Later members move up. Never allocates. */
QK_EXPORT int qk_json_object_remove(qk_json *o, const char *key);
/* Iteration in insertion order, i < qk_json_object_size(o). The key is
 * NUL-terminated; *klen (if not NULL) gets its length. */
QK_EXPORT const char *qk_json_object_key_at(const qk_json *o, size_t i,
                                            size_t *klen);
QK_EXPORT qk_json *qk_json_object_value_at(const qk_json *o, size_t i);

/* ---- whole values ------------------------------------------------------ */

/*
 * Deep equality as JSON values: objects compare regardless of member order,
 * numbers by exact mathematical value whatever their kind (1 equals 1.0,
 * INT64_MAX does not equal 2^63, 0 equals -0.0). NaN equals nothing but
 * the same value (identity). Two NULLs are equal. Any depth; for trees
 * nested deeper than 32 levels the walk needs memory, and if that runs out
 * the answer is false.
 */
QK_EXPORT bool qk_json_equal(const qk_json *a, const qk_json *b);
/* A deep copy (a new reference), or NULL on out of memory (or for NULL).
 * Arrays and objects are copied; strings and numbers, which never change
 * once shared, are shared with the original. Any depth. */
QK_EXPORT qk_json *qk_json_copy(const qk_json *v);

/* ---- writer ------------------------------------------------------------ */

enum {
    /* Newline and 4 spaces per level, as QEMU's pretty monitor prints. */
    QK_JSON_PRETTY = 1u << 0,
};

/*
 * Writes v as JSON. The default form is QEMU's: `{"a": 1, "b": [1, 2]}`.
 * Output is ASCII only: other characters become \uXXXX (upper-case hex,
 * surrogate pairs above U+FFFF), invalid UTF-8 becomes \uFFFD (one per
 * maximal invalid subpart, see docs/json-values.md). Integers are
 * exact; doubles are the shortest text that reads back to the same double
 * (with ".0" when integral), independent of the C locale; infinities are
 * written as 1e999 and -1e999, NaN as null, so the output is always JSON.
 *
 * qk_json_write appends to out; on failure (QK_ERR_NOMEM, or QK_ERR_INVAL
 * for a NULL out or v) out is left as it was. Any nesting depth.
 */
QK_EXPORT int qk_json_write(qk_buf *out, const qk_json *v, unsigned flags);
/* Returns a new NUL-terminated string (free with qk_free), or NULL. */
QK_EXPORT char *qk_json_to_string(const qk_json *v, unsigned flags,
                                  size_t *len);
/*
 * Writes into a caller's buffer, NUL-terminated, without allocating (except
 * for values nested deeper than 128 levels, which need a frame stack:
 * QK_ERR_NOMEM is then possible). QK_ERR_INVAL for a NULL v, or a NULL buf
 * with size > 0; buf may be NULL with size 0 to learn the length.
 * *needed (if not NULL) gets the length of the full text without the NUL.
 * QK_ERR_NOSPC if size <= that length (buf then holds a truncated prefix).
 */
QK_EXPORT int qk_json_write_fixed(const qk_json *v, unsigned flags, char *buf,
                                  size_t size, size_t *needed);
/* Appends one JSON string literal (quotes and escapes, as above) for len
 * bytes; on failure out is left as it was. */
QK_EXPORT int qk_json_write_string(qk_buf *out, const char *s, size_t len);

/* ---- parser ------------------------------------------------------------ */

typedef enum qk_json_mode {
    /* QEMU's QMP dialect: also 'single-quoted' strings and the \' escape,
     * QEMU's error texts and its recovery after bad input. */
    QK_JSON_QMP = 0,
    /* RFC 8259 only. */
    QK_JSON_STRICT = 1,
} qk_json_mode;

/* QEMU's limits, the defaults. */
#define QK_JSON_DEFAULT_MAX_TOKEN_SIZE ((size_t)64 << 20) /* bytes per message */
#define QK_JSON_DEFAULT_MAX_TOKEN_COUNT ((size_t)2 << 20) /* tokens per message */
#define QK_JSON_DEFAULT_MAX_DEPTH 1024u                   /* open brackets */

typedef struct qk_json_parser_config {
    qk_json_mode mode;
    size_t max_token_size;  /* 0: QK_JSON_DEFAULT_MAX_TOKEN_SIZE */
    size_t max_token_count; /* 0: QK_JSON_DEFAULT_MAX_TOKEN_COUNT */
    unsigned max_depth;     /* 0: QK_JSON_DEFAULT_MAX_DEPTH */
} qk_json_parser_config;

/* A parse error, filled in without allocating. */
typedef struct qk_json_error {
    int code;         /* QK_ERR_PARSE, QK_ERR_LIMIT or QK_ERR_NOMEM */
    unsigned line;    /* 1-based line of the byte that revealed the error */
    unsigned column;  /* 1-based column of that byte, counted in bytes */
    size_t offset;    /* 0-based offset of that byte in the whole stream */
    /* QEMU's text, e.g. "JSON parse error, expecting value". The text may
     * hold raw bytes from the input (a stray byte); the writer escapes
     * them. Quoted input longer than the buffer is cut short. */
    char message[256];
} qk_json_error;

/*
 * One-shot parse of exactly one value, with optional whitespace around it.
 * Returns the value (caller owns it) or NULL with *err filled (err may be
 * NULL).
 */
QK_EXPORT qk_json *qk_json_parse(const char *text, size_t len,
                                 qk_json_mode mode, qk_json_error *err);

/*
 * The streaming parser reads a byte stream of JSON texts, as a QMP peer
 * does: texts may share a line or span lines, and chunks may be any size
 * down to one byte. Each complete top-level value, and each error, is a
 * "message" handed out as soon as the byte that completes it arrives.
 * After an error the parser recovers as QEMU does (see docs/json.md).
 * Memory is bounded by the limits whatever the input.
 */
typedef struct qk_json_parser qk_json_parser;

typedef enum qk_json_status {
    QK_JSON_MORE = 0,  /* all input consumed, no message complete */
    QK_JSON_VALUE = 1, /* *value holds a complete value; caller owns it */
    QK_JSON_ERROR = 2, /* *err describes a bad message */
} qk_json_status;

/* cfg may be NULL for QMP mode with QEMU's limits. NULL on out of memory. */
QK_EXPORT qk_json_parser *qk_json_parser_new(const qk_json_parser_config *cfg);
QK_EXPORT void qk_json_parser_free(qk_json_parser *p);
/* Forgets any partial input, as QEMU does when a client disconnects. */
QK_EXPORT void qk_json_parser_reset(qk_json_parser *p);

/*
 * Consumes bytes until a message completes or the input runs out.
 * *consumed gets the number of bytes used: feed the rest in the next call.
 * Returns a qk_json_status, or QK_ERR_NOMEM (the message being read is
 * dropped and parsing goes on with the next byte).
 */
QK_EXPORT int qk_json_parser_feed(qk_json_parser *p, const void *data,
                                  size_t len, size_t *consumed,
                                  qk_json **value, qk_json_error *err);
/*
 * Signals the end of the stream: completes a pending number or keyword and
 * reports an unfinished text as an error. Call until it returns
 * QK_JSON_MORE. The parser is then empty and may be reused.
 */
QK_EXPORT int qk_json_parser_finish(qk_json_parser *p, qk_json **value,
                                    qk_json_error *err);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_JSON_H */
