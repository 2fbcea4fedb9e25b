/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the protocol tests: a small command table of stand-ins
 * for the QEMU commands the wire corpus uses, a driver that pushes bytes
 * through a server session (feeding, dispatching, honouring flow control)
 * with the input cut at chosen places, and a splitter that turns the
 * output stream back into messages.
 */
#ifndef QK_PROTO_UTIL_H
#define QK_PROTO_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmpkit/json.h"
#include "qmpkit/session.h"

/* ---- stand-in commands ---- */

static inline void pu_query_status(qk_json *args, qk_json **ret, qk_error **errp,
                            void *opaque)
{
    (void)opaque;
    if (qk_json_object_size(args)) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "Parameter '%s' is unexpected",
                      qk_json_object_key_at(args, 0, NULL));
        return;
    }
    *ret = qk_json_pack("{s:s, s:b, s:b}", "status", "running", "singlestep",
                        0, "running", 1);
}

static inline void pu_migrate_pause(qk_json *args, qk_json **ret, qk_error **errp,
                             void *opaque)
{
    (void)args;
    (void)ret;
    (void)opaque;
    qk_error_setg(errp, QK_ERROR_GENERIC,
                  "migrate-pause is currently only supported during "
                  "postcopy-active state");
}

static inline void pu_query_yank(qk_json *args, qk_json **ret, qk_error **errp,
                          void *opaque)
{
    (void)args;
    (void)errp;
    (void)opaque;
    *ret = qk_json_pack("[{s:s, s:s}]", "type", "chardev", "id",
                        "compat_monitor0");
}

/* Returns its arguments. */
static inline void pu_echo(qk_json *args, qk_json **ret, qk_error **errp,
                    void *opaque)
{
    (void)errp;
    (void)opaque;
    *ret = qk_json_ref(args);
}

/* Fails with the class and text given as arguments. */
static inline void pu_fail(qk_json *args, qk_json **ret, qk_error **errp,
                    void *opaque)
{
    (void)ret;
    (void)opaque;
    qk_error_class cls;
    qk_error_class_from_name(
        qk_json_string(qk_json_object_get(args, "class")), &cls);
    const char *d = qk_json_string(qk_json_object_get(args, "desc"));
    qk_error_setg(errp, cls, "%s", d ? d : "failed");
}

static inline void pu_nothing(qk_json *args, qk_json **ret, qk_error **errp,
                       void *opaque)
{
    (void)args;
    (void)ret;
    (void)errp;
    (void)opaque;
}

/* Counts the fds attached to the request: returns {"fds": N}; keeps
 * none (the engine closes them). Set by the driver through opaque. */
static inline void pu_count_fds(qk_json *args, qk_json **ret, qk_error **errp,
                         void *opaque)
{
    (void)args;
    (void)errp;
    qk_request *r = *(qk_request **)opaque;
    *ret = qk_json_pack("{s:I}", "fds", (int64_t)qk_request_fd_count(r));
}

static qk_request *pu_current_request;

static inline qk_command_table *pu_table(void)
{
    qk_command_table *t = qk_command_table_new();
    if (!t)
        return NULL;
    int rc = 0;
    rc |= qk_command_table_add(t, "query-status", pu_query_status, 0, NULL);
    rc |= qk_command_table_add(t, "migrate-pause", pu_migrate_pause,
                               QK_CMD_ALLOW_OOB, NULL);
    rc |= qk_command_table_add(t, "query-yank", pu_query_yank,
                               QK_CMD_ALLOW_OOB, NULL);
    rc |= qk_command_table_add(t, "echo", pu_echo, 0, NULL);
    rc |= qk_command_table_add(t, "echo-oob", pu_echo, QK_CMD_ALLOW_OOB, NULL);
    rc |= qk_command_table_add(t, "fail", pu_fail, 0, NULL);
    rc |= qk_command_table_add(t, "no-reply", pu_nothing,
                               QK_CMD_NO_SUCCESS_RESPONSE, NULL);
    rc |= qk_command_table_add(t, "old", pu_nothing, QK_CMD_DEPRECATED, NULL);
    rc |= qk_command_table_add(t, "new", pu_nothing, QK_CMD_UNSTABLE, NULL);
    rc |= qk_command_table_add(t, "off", pu_nothing, 0, NULL);
    rc |= qk_command_table_add(t, "off2", pu_nothing, 0, NULL);
    rc |= qk_command_table_add(t, "count-fds", pu_count_fds, 0,
                               &pu_current_request);
    rc |= qk_command_table_disable(t, "off", NULL);
    rc |= qk_command_table_disable(t, "off2", "frozen");
    if (rc) {
        qk_command_table_unref(t);
        return NULL;
    }
    return t;
}

/* ---- driving a server ---- */

/* Runs one request's handler and completes it, exposing the request to
 * pu_count_fds while the handler runs. */
static inline void pu_run(qk_request *r)
{
    void *opaque;
    qk_command_fn fn = qk_request_handler(r, &opaque);
    qk_json *ret = NULL;
    qk_error *err = NULL;
    pu_current_request = r;
    fn(qk_request_arguments(r), &ret, &err, opaque);
    pu_current_request = NULL;
    qk_request_complete(r, ret, err);
}

/* Runs every ready request synchronously (as qk_session_dispatch does,
 * but through pu_run). */
static inline int pu_dispatch(qk_session *s)
{
    int n = 0;
    qk_request *r;
    while ((r = qk_session_next_request(s, QK_NEXT_ANY))) {
        pu_run(r);
        n++;
    }
    return n;
}

/* Appends all pending output of s to out. */
static inline int pu_drain(qk_session *s, qk_buf *out)
{
    const void *p;
    size_t n;
    for (;;) {
        qk_session_output(s, &p, &n, NULL, NULL);
        if (!n)
            return 0;
        if (qk_buf_append(out, p, n) < 0)
            return QK_ERR_NOMEM;
        qk_session_output_consume(s, n);
    }
}

/*
 * Feeds in[0..len) to a server, cut at the offsets in cuts[] (ascending),
 * dispatching and draining as it goes, until all input is consumed.
 * Returns 0, or the first error feed returned (the run still completes).
 */
static inline int pu_run_server(qk_session *s, const char *in, size_t len,
                         const size_t *cuts, size_t ncuts, qk_buf *out)
{
    size_t pos = 0, ci = 0;
    int ret = 0;
    while (pos < len) {
        size_t end = len;
        while (ci < ncuts && cuts[ci] <= pos)
            ci++;
        if (ci < ncuts)
            end = cuts[ci];
        while (pos < end) {
            size_t used = 0;
            int rc = qk_session_feed(s, in + pos, end - pos, NULL, 0, &used);
            if (rc < 0 && !ret)
                ret = rc;
            pos += used;
            int ran = pu_dispatch(s);
            if (pu_drain(s, out) < 0 && !ret)
                ret = QK_ERR_NOMEM;
            if (used == 0 && ran == 0 && rc == 0 &&
                !qk_session_wants_input(s))
                return QK_ERR_STATE; /* stuck */
            if (used == 0 && rc < 0)
                return ret;
        }
    }
    pu_dispatch(s);
    if (pu_drain(s, out) < 0 && !ret)
        ret = QK_ERR_NOMEM;
    return ret;
}

/* ---- output messages ---- */

typedef struct pu_msgs {
    qk_json **v;
    size_t n, cap;
    bool bad_framing;
} pu_msgs;

static inline void pu_msgs_free(pu_msgs *m)
{
    for (size_t i = 0; i < m->n; i++)
        qk_json_unref(m->v[i]);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static inline void pu_msgs_add(pu_msgs *m, qk_json *v)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
    }
    m->v[m->n++] = v;
}

/* Splits an output stream into messages ending in eol ("\r\n" or "\n");
 * a line that does not parse is stored as NULL. Pretty output spans
 * lines: messages are found with the stream parser instead when pretty. */
static inline void pu_split(const char *data, size_t len, const char *eol,
                     pu_msgs *m)
{
    size_t el = strlen(eol), pos = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) + 1 : len;
        if (!nl || end - pos < el ||
            memcmp(data + end - el, eol, el) != 0 ||
            (el == 1 && end - pos >= 2 && data[end - 2] == '\r'))
            m->bad_framing = true;
        size_t body = end - pos - (nl ? el : 0);
        const char *start = data + pos;
        if (body && (unsigned char)start[0] == 0xFF) {
            start++;
            body--;
        }
        pu_msgs_add(m, qk_json_parse(start, body, QK_JSON_STRICT, NULL));
        pos = end;
    }
}

/* ---- fuzz input ---- */

/* A proto fuzz input is a flags byte, a feed step (0: all at once), then
 * the bytes to feed. False when too short for the first two. */
static inline bool pu_fuzz_split(const uint8_t **data, size_t *size,
                                 unsigned *flags, size_t *step)
{
    if (*size < 2)
        return false;
    *flags = (*data)[0];
    *step = (*data)[1] ? (*data)[1] : *size;
    *data += 2;
    *size -= 2;
    return true;
}

/* Every output byte must be ASCII (0xFF sentinel for agents aside). */
static inline bool pu_ascii(const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)d[i] >= 0x80 && (unsigned char)d[i] != 0xFF)
            return false;
    return true;
}

static inline char *pu_str(const qk_json *v)
{
    if (!v)
        return strdup("(unparsable)");
    char *s = qk_json_to_string(v, 0, NULL);
    char *r = strdup(s ? s : "(oom)");
    qk_free(s);
    return r;
}

#endif
