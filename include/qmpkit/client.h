/* SPDX-License-Identifier: MIT */
/*
 * qmpkit/client.h: a minimal blocking QMP client over the engine's client
 * role: connect (greeting and negotiation done before it returns),
 * execute, send several requests and wait for their replies in any order,
 * read events. Enough for tools, examples and tests; one thread per
 * client (a qk_client is not shared between threads).
 */
#ifndef QMPKIT_CLIENT_H
#define QMPKIT_CLIENT_H

#include "common.h"
#include "error.h"
#include "json.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_client qk_client;

/* Direction of traced bytes. */
enum { QK_TRACE_SENT = 0, QK_TRACE_RECEIVED = 1 };

typedef struct qk_client_options {
    unsigned flags;   /* QK_CLIENT_WANT_OOB, QK_CLIENT_GUEST_AGENT */
    int timeout_ms;   /* per blocking call; 0: wait forever */
    /* Every byte sent and received, as it goes (for printing exchanges).
     * May be NULL. */
    void (*trace)(int dir, const char *data, size_t len, void *opaque);
    void *opaque;
} qk_client_options;

/*
 * Connects to a unix socket, reads the greeting and negotiates (a guest
 * agent is synchronised with guest-sync-delimited instead). opt may be
 * NULL. Returns 0, QK_ERR_IO (connect or I/O failed; errno ETIMEDOUT on
 * timeout), QK_ERR_STATE (negotiation refused) or QK_ERR_NOMEM.
 */
QK_EXPORT int qk_client_connect_unix(const char *path,
                                     const qk_client_options *opt,
                                     qk_client **out);
/* As qk_client_connect_unix, over TCP. */
QK_EXPORT int qk_client_connect_tcp(const char *host, unsigned port,
                                    const qk_client_options *opt,
                                    qk_client **out);
/* As qk_client_connect_unix, on a connected socket (owned from now on,
 * even on failure). */
QK_EXPORT int qk_client_open_fd(int fd, const qk_client_options *opt,
                                qk_client **out);
QK_EXPORT void qk_client_free(qk_client *c);

/* The greeting (borrowed), NULL for a guest agent. */
QK_EXPORT qk_json *qk_client_greeting(qk_client *c);
/* The socket, e.g. for poll(). */
QK_EXPORT int qk_client_fd(qk_client *c);

/*
 * Sends a request without waiting: args (consumed, may be NULL), flags
 * QK_CALL_OOB, fds (borrowed: duplicated) travel with it. *id gets its id
 * for qk_client_wait(). Returns 0 or a negative error.
 */
QK_EXPORT int qk_client_send(qk_client *c, const char *name, qk_json *args,
                             unsigned flags, const int *fds, size_t nfds,
                             int64_t *id);
/*
 * Waits for the reply to request id. Returns 0 with *ret (a new
 * reference, may be NULL when not wanted) set, 1 when the server answered
 * with an error (*err set, caller frees; err may be NULL), or QK_ERR_IO
 * (connection lost; errno ETIMEDOUT on timeout), QK_ERR_NOENT (unknown id),
 * QK_ERR_STATE.
 */
QK_EXPORT int qk_client_wait(qk_client *c, int64_t id, qk_json **ret,
                             qk_error **err);
/* qk_client_send() then qk_client_wait(). */
QK_EXPORT int qk_client_execute(qk_client *c, const char *name, qk_json *args,
                                unsigned flags, qk_json **ret, qk_error **err);
/*
 * The oldest event not yet read (a new reference), waiting up to
 * timeout_ms (0: do not wait, -1: forever). Returns 0, or QK_ERR_NOENT
 * when none came in time, or QK_ERR_IO.
 */
QK_EXPORT int qk_client_next_event(qk_client *c, int timeout_ms,
                                   qk_json **event);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_CLIENT_H */
