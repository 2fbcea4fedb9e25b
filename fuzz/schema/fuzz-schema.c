/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the schema front end: the input is a root schema parsed
 * from memory. Includes resolve through a reader that serves a few fixed
 * helper files (and fails for any other name), so include handling,
 * repetition and loops get exercised without touching the file system.
 * When the input compiles, the dump and every code generator back end run
 * too (the generated text is dropped). An input starting with byte
 * 0x15 is compiled as the 2015 language (--compat=2015) without that byte.
 * Each input is also compiled as a checker (doc text not kept), which goes
 * through other paths of the doc parser and checks: the result and the
 * diagnostic must be the same, or the target aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmpkit/schema-gen.h"
#include "qmpkit/schema.h"

static int reader(void *opaque, const char *path, char **data, size_t *len)
{
    (void)opaque;
    const char *text;
    if (!strcmp(path, "sub.json"))
        text = "{ 'enum': 'SubEnum', 'data': [ 'a', 'b' ] }\n"
               "{ 'struct': 'SubStruct', 'data': { 'x': 'SubEnum' } }\n";
    else if (!strcmp(path, "loop.json"))
        text = "{ 'include': 'fuzz.json' }\n";
    else if (!strcmp(path, "dir/nested.json"))
        text = "{ 'include': '../sub.json' }\n";
    else
        return -ENOENT;
    qk_buf b = QK_BUF_INIT;
    if (qk_buf_append_str(&b, text))
        return -ENOMEM;
    *data = qk_buf_steal(&b, len);
    return 0;
}

static int drop_file(void *opaque, const char *name, const char *data,
                     size_t len)
{
    (void)opaque;
    (void)name;
    (void)data;
    (void)len;
    return 0;
}

/* The diagnostic of each compile (the first error only: one call). */
static void diag(void *opaque, const char *text)
{
    snprintf(opaque, 4096, "%s", text);
}

static int compile(const uint8_t *data, size_t size, bool keep_text,
                   char *msg, qk_schema **out)
{
    qk_schema *s = *out = qk_schema_new();
    msg[0] = 0;
    if (!s)
        return QK_ERR_NOMEM;
    qk_schema_set_diag(s, diag, msg);
    qk_schema_set_reader(s, reader, NULL);
    qk_schema_set_keep_doc_text(s, keep_text);
    if (size > 0 && data[0] == 0x15) {
        qk_schema_set_compat(s, 2015);
        data++;
        size--;
    }
    return qk_schema_compile_buffer(s, "fuzz.json", (const char *)data,
                                    size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char msg[4096], msg2[4096];
    qk_schema *s, *s2;
    int r = compile(data, size, true, msg, &s);
    int r2 = compile(data, size, false, msg2, &s2);
    qk_schema_free(s2);
    if (r != r2 || strcmp(msg, msg2)) {
        fprintf(stderr, "checker differs: %d '%s' vs %d '%s'\n", r, msg, r2,
                msg2);
        abort();
    }
    if (r == 0) {
        qk_buf b = QK_BUF_INIT;
        qk_schema_dump(s, &b);
        qk_buf_free(&b);
        for (const qk_schema_entity *e = qk_schema_first(s); e;
             e = qk_schema_next(e))
            (void)qk_schema_entity_module(e);
        qk_gen_options opt = {"fz-", size & 1, size & 2};
        qk_schema_generate(s, &opt, drop_file, NULL);
    }
    qk_schema_free(s);
    return 0;
}
