/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: strict mode against jansson. Both must accept or both
 * reject, and accepted values must be equal, apart from documented
 * differences: jansson refuses integers beyond int64 and doubles beyond
 * DBL_MAX (we read them as uint64, double or infinity), allows 2048
 * levels of nesting (we allow 1024 by default), cannot hold U+0000 in an
 * object key, and lets a NUL byte end a number ("1e5\0" reads as 1e5; a NUL
 * outside a string is not JSON).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmpkit/json.h"
#include "../fuzz.h"

static qk_json *from_jansson(json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_NULL: return qk_json_null();
    case JSON_TRUE: return qk_json_bool(true);
    case JSON_FALSE: return qk_json_bool(false);
    case JSON_INTEGER: return qk_json_int_new(json_integer_value(j));
    case JSON_REAL: return qk_json_double_new(json_real_value(j));
    case JSON_STRING:
        return qk_json_string_new_len(json_string_value(j),
                                      json_string_length(j));
    case JSON_ARRAY: {
        qk_json *a = qk_json_array_new();
        for (size_t i = 0; i < json_array_size(j); i++)
            qk_json_array_append_take(a, from_jansson(json_array_get(j, i)));
        return a;
    }
    case JSON_OBJECT: {
        qk_json *o = qk_json_object_new();
        const char *k;
        size_t klen;
        json_t *v;
        void *tmp;
        json_object_keylen_foreach_safe(j, tmp, k, klen, v)
            qk_json_object_set_len_take(o, k, klen, from_jansson(v));
        return o;
    }
    }
    abort();
}

static bool known_difference(const json_error_t *je, const qk_json_error *qe,
                             const uint8_t *data, size_t size)
{
    if (qe && memchr(data, 0, size))
        return true; /* jansson took a NUL byte as the end of a token */
    return strstr(je->text, "too big") || strstr(je->text, "overflow") ||
           strstr(je->text, "maximum parsing depth") ||
           strstr(je->text, "NUL byte in object key") ||
           (qe && qe->code == QK_ERR_LIMIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    qk_json_error qe;
    json_t *j = json_loadb((const char *)data, size,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    qk_json *q = qk_json_parse((const char *)data, size, QK_JSON_STRICT, &qe);

    if (!j && !q) {
        /* both reject */
    } else if (!j) {
        if (!known_difference(&je, NULL, data, size))
            abort();
    } else if (!q) {
        if (!known_difference(&je, &qe, data, size))
            abort();
    } else {
        qk_json *mine = from_jansson(j);
        if (!qk_json_equal(mine, q))
            abort();
        qk_json_unref(mine);
    }
    json_decref(j);
    qk_json_unref(q);
    return 0;
}
