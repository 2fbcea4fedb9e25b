/* SPDX-License-Identifier: MIT */
/*
 * The parser's state, shared by the incremental path (parser.c) and the
 * fast path for messages that lie whole in the caller's buffer
 * (fastpath.c).
 */
#ifndef QK_PARSER_INT_H
#define QK_PARSER_INT_H

#include <string.h>

#include "json/defer-int.h"
#include "json/lexer-int.h"
#include "json/strcache-int.h"
#include "json/value-int.h"
#include "json/value-layout-int.h"
#include "qmpkit/json.h"

enum {
    /* Where the innermost open container stands. */
    A_FIRST, /* after '[' */
    A_VALUE, /* after ',' in an array */
    A_SEP,   /* after an element */
    O_FIRST, /* after '{' */
    O_KEY,   /* after ',' in an object */
    O_COLON, /* after a key */
    O_VALUE, /* after ':' */
    O_SEP,   /* after a member's value */
};

typedef struct qk_parse_frame {
    qk_json *container;
    qk_json *key;  /* the member key waiting for its value */
    uint8_t state;
    bool as_key;   /* this container stands where a key should be */
} qk_parse_frame;

struct qk_json_parser {
    qk_json_mode mode;
    size_t max_size, max_count;
    unsigned max_depth;
    qk_lexer lx;
    qk_strcache strings;
    bool use_cache;  /* share repeated short strings (long-lived parsers) */

    /* streamer: the message being read */
    long braces, brackets;
    size_t token_bytes, tokens;

    /* grammar */
    qk_parse_frame *stack;
    size_t depth, stack_cap;
    qk_json *result; /* a complete top-level value */
    bool failed;     /* the first error of this message is in fail */
    qk_json_error fail;

    qk_defer dfr; /* a container message collected for the fast path */
};

/*
 * Adds a member to an object under construction; key and value are
 * consumed. Returns 0, QK_ERR_INVAL if the key is already there (nothing
 * added), or QK_ERR_NOMEM. Small objects are checked by comparing keys
 * directly, shared ones by pointer.
 */
static inline int qk_parser_add_member(qk_json *obj, qk_json *key, qk_json *v)
{
    qk_json_obj *o = QK_OBJ(obj);
    if (o->len >= QK_JSON_INDEX_MIN || o->len == o->u.cap)
        return qk_json__object_add_unique_take(obj, key, v);
    const qk_json_str *k = QK_CSTR(key);
    for (uint32_t i = 0; i < o->len; i++) {
        const qk_json_str *e = QK_CSTR(o->m[i].key);
        if (e == k || (e->len == k->len && e->data[0] == k->data[0] &&
                       !memcmp(e->data, k->data, k->len))) {
            qk_json_unref(key);
            qk_json_unref(v);
            return QK_ERR_INVAL;
        }
    }
    /* Below the index threshold there is no index to update. */
    o->m[o->len].key = key;
    o->m[o->len].value = v;
    o->len++;
    return 0;
}

/* Pushes an open container (consumed; NULL means out of memory). */
int qk_parser_push(qk_json_parser *p, qk_json *container, uint8_t state,
                   bool as_key);
/* Unrefs everything the grammar holds. */
void qk_parser_drop_stack(qk_json_parser *p);

/*
 * The exact path over d[*pos..len): reads tokens until a message completes
 * (returned as qk_json_parser_feed does) or the input runs out, advancing
 * *pos. With quick, messages that begin between chunks' bytes are tried
 * with the fast path first, or collected (defer.c).
 */
int qk_parser_run(qk_json_parser *p, const uint8_t *d, size_t len,
                  size_t *pos, qk_json **value, qk_json_error *err,
                  bool quick);

/*
 * Parses one message from d[0..len) if it is all there, valid and within
 * the limits: returns 1 with *value and *used (as the incremental path
 * would set them). Returns 0, having changed nothing, for anything else;
 * the incremental path then reads the same bytes.
 */
int qk_json__fast_message(qk_json_parser *p, const uint8_t *d, size_t len,
                          size_t *used, qk_json **value);

#endif
