/* SPDX-License-Identifier: MIT */
/*
 * qmpkit/schema.h: the QAPI schema front end as a library.
 *
 * A qk_schema context parses a root schema file (or a memory buffer), follows
 * its includes, runs every check QEMU's generator makes, and holds the
 * resulting model: entities in definition order, with implicit object types,
 * array types and modules created as QEMU creates them.
 *
 * Diagnostics are delivered through a callback as complete text, exactly as
 * QEMU prints them (include chain, "In META 'NAME':" context line,
 * "FILE:LINE[:COL]: message"), each ending in a newline. Only the first
 * error is reported: like QEMU, the front end stops there.
 *
 * The library never prints, never exits; out-of-memory is reported as
 * QK_ERR_NOMEM. All memory belongs to the context and is released by
 * qk_schema_free().
 */
#ifndef QMPKIT_SCHEMA_H
#define QMPKIT_SCHEMA_H

#include "qmpkit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_schema qk_schema;
typedef struct qk_schema_entity qk_schema_entity;

/* Receives one complete diagnostic (possibly several lines, '\n'-ended). */
typedef void (*qk_schema_diag_fn)(void *opaque, const char *text);

/*
 * Reads a schema file (see qk_schema_set_reader). PATH is the path as
 * QEMU forms it: the root name as given, includes joined to the including
 * file's directory. Store a buffer allocated with the qk allocator
 * (qk_buf_steal or similar) in *data and its length in *len and return 0;
 * the context takes ownership of the buffer. Or return a negative errno
 * value (e.g. -ENOENT), reported as QEMU reports an unreadable file.
 */
typedef int (*qk_schema_read_fn)(void *opaque, const char *path,
                                 char **data, size_t *len);

/* Creates an empty context; NULL when out of memory. */
QK_EXPORT qk_schema *qk_schema_new(void);
/* Frees the context and everything it owns; NULL is a no-op. */
QK_EXPORT void qk_schema_free(qk_schema *s);

/* Sets where diagnostics go (default: nowhere; qk_schema_last_error() has
 * the text either way). The text is borrowed for the call's duration. */
QK_EXPORT void qk_schema_set_diag(qk_schema *s, qk_schema_diag_fn fn,
                                  void *opaque);
/*
 * Sets how files are read: the root file of qk_schema_compile_file() and
 * every include. The default (fn == NULL) reads the file system. A reader
 * that always fails with -ENOENT disables includes (useful for fuzzing).
 */
QK_EXPORT void qk_schema_set_reader(qk_schema *s, qk_schema_read_fn fn,
                                    void *opaque);

/* Language level: 0 (default) is the modern language; 2015 accepts the
 * 2015 forms. QK_ERR_INVAL for an unknown level. Call before parsing. */
QK_EXPORT int qk_schema_set_compat(qk_schema *s, int level);

/*
 * Whether doc comment text is kept (default true). A pure checker can turn
 * it off before compiling: doc comments are still parsed and checked, but
 * their text is not stored, and qk_schema_dump() fails with QK_ERR_STATE.
 */
QK_EXPORT void qk_schema_set_keep_doc_text(qk_schema *s, bool keep);

/* Limits: maximum nesting depth of values and of includes (defaults 1000
 * and 200; 0 keeps the current value). Exceeding one is an ordinary
 * diagnostic ("nesting too deep", "includes nested too deeply"). */
QK_EXPORT void qk_schema_set_limits(qk_schema *s, unsigned max_depth,
                                    unsigned max_include_depth);

/*
 * Parses the root file PATH (includes relative to the including file) and
 * checks the whole schema. Returns 0 when the schema is valid,
 * QK_ERR_PARSE when it was rejected (one diagnostic was emitted),
 * QK_ERR_NOMEM when memory ran out, QK_ERR_STATE when the context was used
 * already. The context can be queried afterwards either way.
 */
QK_EXPORT int qk_schema_compile_file(qk_schema *s, const char *path);
/* Same from memory (DATA is copied; it may be NULL when LEN is 0); NAME is
 * the file name used in messages and for resolving includes.
 * QK_ERR_INVAL for a NULL name or NULL data with LEN > 0. */
QK_EXPORT int qk_schema_compile_buffer(qk_schema *s, const char *name,
                                       const char *data, size_t len);

/* The last diagnostic text, or NULL. Borrowed from the context. */
QK_EXPORT const char *qk_schema_last_error(const qk_schema *s);

/*
 * Appends the model in the format of QEMU's test harness (modules,
 * entities, then doc blocks) to OUT. Only valid after a successful compile
 * (QK_ERR_STATE otherwise); QK_ERR_NOMEM on allocation failure.
 */
QK_EXPORT int qk_schema_dump(const qk_schema *s, qk_buf *out);

/* ---- walking the model ---- */

typedef enum qk_schema_kind {
    QK_SCHEMA_BUILTIN,
    QK_SCHEMA_ENUM,
    QK_SCHEMA_ARRAY,
    QK_SCHEMA_OBJECT,     /* struct, union and implicit object types */
    QK_SCHEMA_ALTERNATE,
    QK_SCHEMA_COMMAND,
    QK_SCHEMA_EVENT,
    QK_SCHEMA_INCLUDE,
} qk_schema_kind;

/* Entities in definition order (builtins first). NULL at the end. */
QK_EXPORT const qk_schema_entity *qk_schema_first(const qk_schema *s);
QK_EXPORT const qk_schema_entity *qk_schema_next(const qk_schema_entity *e);
QK_EXPORT qk_schema_kind qk_schema_entity_kind(const qk_schema_entity *e);
/* Name (for includes: the included module's name). */
QK_EXPORT const char *qk_schema_entity_name(const qk_schema_entity *e);
/* Name of the module the entity belongs to ("./builtin", "foo.json"). */
QK_EXPORT const char *qk_schema_entity_module(const qk_schema_entity *e);
/* Counts entities of a kind that come from the schema (not predefined). */
QK_EXPORT size_t qk_schema_count(const qk_schema *s, qk_schema_kind kind);

/* Finds a definition (type, command or event) by name; NULL if none. */
QK_EXPORT const qk_schema_entity *qk_schema_lookup(const qk_schema *s,
                                                   const char *name);
/* "built-in", "enum", "array", "struct", "union", "alternate", "command",
 * "event" or "include". */
QK_EXPORT const char *qk_schema_entity_meta(const qk_schema_entity *e);
/* True for predefined entities (built-ins, their arrays, q_empty, QType)
 * and implicit object types (q_obj_*); false for definitions and for the
 * arrays a schema's definitions use. */
QK_EXPORT bool qk_schema_entity_is_implicit(const qk_schema_entity *e);
/* Related types, NULL when not applicable: an object's base, an array's
 * element type, a command's or event's argument type, a command's return
 * type. */
QK_EXPORT const qk_schema_entity *qk_schema_entity_base(
    const qk_schema_entity *e);
QK_EXPORT const qk_schema_entity *qk_schema_entity_element(
    const qk_schema_entity *e);
QK_EXPORT const qk_schema_entity *qk_schema_entity_arg_type(
    const qk_schema_entity *e);
QK_EXPORT const qk_schema_entity *qk_schema_entity_ret_type(
    const qk_schema_entity *e);

/* Command and event flags (qk_schema_entity_flags). */
enum {
    QK_SCHEMA_FLAG_GEN = 1 << 0,              /* 'gen' not false */
    QK_SCHEMA_FLAG_SUCCESS_RESPONSE = 1 << 1, /* 'success-response' */
    QK_SCHEMA_FLAG_BOXED = 1 << 2,
    QK_SCHEMA_FLAG_ALLOW_OOB = 1 << 3,
    QK_SCHEMA_FLAG_ALLOW_PRECONFIG = 1 << 4,
    QK_SCHEMA_FLAG_COROUTINE = 1 << 5,
};
QK_EXPORT unsigned qk_schema_entity_flags(const qk_schema_entity *e);

/*
 * Members, by index: an object's own members (not inherited), an enum's
 * values, a union's or alternate's branches (QK_SCHEMA_BRANCHES), a
 * definition's features (QK_SCHEMA_FEATURES). Names and types are
 * borrowed from the context; type is NULL for enum values and features.
 */
typedef enum qk_schema_list {
    QK_SCHEMA_MEMBERS,
    QK_SCHEMA_BRANCHES,
    QK_SCHEMA_FEATURES,
} qk_schema_list;
QK_EXPORT size_t qk_schema_member_count(const qk_schema_entity *e,
                                        qk_schema_list which);
QK_EXPORT const char *qk_schema_member_name(const qk_schema_entity *e,
                                            qk_schema_list which, size_t i);
QK_EXPORT const qk_schema_entity *qk_schema_member_type(
    const qk_schema_entity *e, qk_schema_list which, size_t i);
QK_EXPORT bool qk_schema_member_optional(const qk_schema_entity *e,
                                         qk_schema_list which, size_t i);
/* A union's discriminator or an alternate's tag member name ("type"). */
QK_EXPORT const char *qk_schema_entity_tag(const qk_schema_entity *e);

/*
 * Appends the entity's 'if' condition as a C preprocessor expression
 * (defined(X), (A && B), (A || B), !X) to OUT; nothing when unconditional.
 * Returns 1 if there was a condition, 0 if not, QK_ERR_NOMEM.
 */
QK_EXPORT int qk_schema_entity_if_c(const qk_schema_entity *e, qk_buf *out);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_SCHEMA_H */
