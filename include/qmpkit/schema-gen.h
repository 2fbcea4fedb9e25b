/* SPDX-License-Identifier: MIT */
/*
 * qmpkit/schema-gen.h: the QAPI code generator's back ends as a library.
 *
 * After a schema compiled (qmpkit/schema.h), qk_schema_generate() produces
 * the C files QEMU's qapi-gen produces (types, features, visit, commands,
 * events, introspect; per module, with QEMU's file names) for qmpkit's
 * runtime (qmpkit/rt.h, qmpkit/session.h), and hands each file to a
 * callback. Nothing is written by the library itself.
 */
#ifndef QMPKIT_SCHEMA_GEN_H
#define QMPKIT_SCHEMA_GEN_H

#include "qmpkit/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_gen_options {
    const char *prefix;   /* -p: prefix of file names and symbols ("") */
    bool builtins;        /* -b: also emit the built-in module's files */
    bool unmask;          /* -u: real type names in introspection */
} qk_gen_options;

/* Receives one generated file: name relative to the output directory
 * (may contain '/', may start with "../" and is then usually skipped).
 * Return 0 or a negative QK_ERR_* to stop generation. */
typedef int (*qk_gen_file_fn)(void *opaque, const char *name,
                              const char *data, size_t len);

/*
 * Generates every file for a successfully compiled schema. Returns 0,
 * QK_ERR_STATE (schema not compiled), QK_ERR_INVAL (bad prefix),
 * QK_ERR_NOMEM, or the first error the callback returned.
 */
QK_EXPORT int qk_schema_generate(const qk_schema *s, const qk_gen_options *opt,
                                 qk_gen_file_fn fn, void *opaque);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_SCHEMA_GEN_H */
