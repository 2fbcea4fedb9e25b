/* SPDX-License-Identifier: MIT */
/*
 * qmpkit/session.h: the sans-I/O QMP protocol engine, for both roles.
 *
 * A qk_session never touches a socket. The transport feeds it the bytes
 * (and file descriptors) it reads with qk_session_feed(), and writes out
 * what qk_session_output() hands it. Everything else (greeting,
 * negotiation, request checks, the in-band queue and its flow control,
 * reply matching, events) happens inside, so the engine embeds in any
 * event loop and every path can be tested byte by byte.
 *
 * Server role: requests come out of qk_session_next_request(); the
 * application runs them (at once, later, on another thread) and answers
 * with qk_request_complete(), or lets qk_session_dispatch() call the
 * command table's handlers synchronously.
 *
 * Client role: qk_session_call() queues a request; the reply comes back
 * through its callback, matched by id; events through the config's
 * on_event callback.
 *
 * Threads: every function taking a qk_session locks the session's mutex,
 * so requests may be completed and events sent from any thread. Client
 * callbacks run inside qk_session_feed() with the mutex released; they may
 * call qk_session_call() and qk_session_guest_sync(), but must not feed
 * or free the session.
 *
 * File descriptors handed to the engine are owned by it from then on: it
 * closes them when nobody claims them.
 */
#ifndef QMPKIT_SESSION_H
#define QMPKIT_SESSION_H

#include "common.h"
#include "error.h"
#include "json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_session qk_session;
typedef struct qk_request qk_request;
typedef struct qk_command_table qk_command_table;

/* ---- command table ----------------------------------------------------- */

/*
 * A command handler, the shape generated marshallers have: args is the
 * request's "arguments" object (borrowed; {} when absent). On success set
 * *ret to the return value (a new reference; NULL means {}); on failure set
 * *errp. opaque is the pointer given at registration.
 */
typedef void (*qk_command_fn)(qk_json *args, qk_json **ret, qk_error **errp,
                              void *opaque);

enum {
    QK_CMD_ALLOW_OOB = 1u << 0,          /* may run out of band */
    QK_CMD_ALLOW_PRECONFIG = 1u << 1,    /* recorded; not enforced */
    QK_CMD_NO_SUCCESS_RESPONSE = 1u << 2, /* success-response: false */
    QK_CMD_DEPRECATED = 1u << 3,         /* feature 'deprecated' */
    QK_CMD_UNSTABLE = 1u << 4,           /* feature 'unstable' */
};

/* A new empty table with one reference, or NULL when out of memory. */
QK_EXPORT qk_command_table *qk_command_table_new(void);
QK_EXPORT qk_command_table *qk_command_table_ref(qk_command_table *t);
QK_EXPORT void qk_command_table_unref(qk_command_table *t);
/*
 * Registers a command (the name is copied). Registration order is kept:
 * query-commands lists commands in reverse order, as QEMU does.
 * Returns 0, QK_ERR_NOMEM, or QK_ERR_INVAL (NULL name/handler, duplicate).
 * Do not change a table while sessions dispatch from it.
 */
QK_EXPORT int qk_command_table_add(qk_command_table *t, const char *name,
                                   qk_command_fn fn, unsigned flags,
                                   void *opaque);
/* Disables a command; reason (copied) may be NULL. QK_ERR_NOENT, NOMEM. */
QK_EXPORT int qk_command_table_disable(qk_command_table *t, const char *name,
                                       const char *reason);
QK_EXPORT int qk_command_table_enable(qk_command_table *t, const char *name);
QK_EXPORT size_t qk_command_table_size(const qk_command_table *t);

/* ---- sessions: common part -------------------------------------------- */

/* Frees a session, its queued requests and every fd it still owns.
 * Requests handed out and not completed must be completed first. */
QK_EXPORT void qk_session_free(qk_session *s);

/*
 * Feeds bytes read from the peer. fds (may be NULL) are file descriptors
 * received with these bytes; the session owns them from now on, even on
 * failure. *consumed gets the number of bytes used. A server stops early
 * when its in-band queue is full (flow control): keep the rest and feed
 * it again once requests have completed (qk_session_wants_input()).
 * Returns 0, QK_ERR_NOMEM (a message was lost; the session goes on and,
 * for a server, answers it with an error), or QK_ERR_STATE (the session
 * failed for good, e.g. a client whose negotiation was refused).
 */
QK_EXPORT int qk_session_feed(qk_session *s, const void *data, size_t len,
                              const int *fds, size_t nfds, size_t *consumed);
/* False while flow control holds input back. */
QK_EXPORT bool qk_session_wants_input(qk_session *s);

/*
 * The bytes waiting to be written: *data and *len (len 0: nothing pending).
 * When fds (may be NULL) is given and descriptors must travel with the
 * first byte returned, *fds and *nfds point at them (borrowed), and *len stops
 * before the next such boundary. The pointers stay valid until
 * qk_session_output_consume(). Returns 0.
 */
QK_EXPORT int qk_session_output(qk_session *s, const void **data, size_t *len,
                                const int **fds, size_t *nfds);
/* Marks n bytes as written; descriptors sent with them are closed. */
QK_EXPORT void qk_session_output_consume(qk_session *s, size_t n);
/* Bytes pending output. */
QK_EXPORT size_t qk_session_output_pending(qk_session *s);
/* True once a message (a request, its reply or an event) had to be
 * dropped for lack of memory. The peer may then wait forever for a reply,
 * so the transport should close the session (qk_server does). */
QK_EXPORT bool qk_session_output_lost(qk_session *s);

/* ---- server role -------------------------------------------------------- */

enum {
    QK_SERVER_OOB = 1u << 0,            /* offer the "oob" capability */
    QK_SERVER_PRETTY = 1u << 1,         /* pretty-printed output */
    QK_SERVER_GUEST_AGENT = 1u << 2,    /* qemu-ga dialect */
    QK_SERVER_COMPAT_2018 = 1u << 3,    /* "control": {"run-oob": true} */
    QK_SERVER_REJECT_DEPRECATED = 1u << 4, /* -compat deprecated-input=reject */
    QK_SERVER_REJECT_UNSTABLE = 1u << 5,   /* -compat unstable-input=reject */
};

typedef struct qk_server_config {
    qk_command_table *commands; /* a reference is taken; may be NULL */
    unsigned flags;             /* QK_SERVER_* */
    /* query-version's value and the greeting's "version" (a reference is
     * taken); NULL: qmpkit's own version. */
    qk_json *version;
    /* query-qmp-schema's value (a reference is taken); NULL: no such
     * command. */
    qk_json *schema;
    size_t max_message; /* 0: 64 MiB */
    unsigned max_depth; /* 0: 1024 */
} qk_server_config;

/* *out gets a new server session whose greeting is already pending output.
 * Returns 0, QK_ERR_NOMEM or QK_ERR_INVAL. */
QK_EXPORT int qk_session_new_server(const qk_server_config *cfg,
                                    qk_session **out);

enum {
    QK_NEXT_OOB = 1u << 0,    /* out-of-band requests (ready at once) */
    QK_NEXT_INBAND = 1u << 1, /* the next in-band request, one at a time */
    QK_NEXT_ANY = 3u,
};

/*
 * The next request to run, or NULL. Requests that fail the protocol
 * checks, and the built-in commands, are answered inside this call and
 * never handed out. An in-band request is handed out only when the
 * previous one has completed. The request belongs to the caller until
 * qk_request_complete().
 */
QK_EXPORT qk_request *qk_session_next_request(qk_session *s, unsigned which);

QK_EXPORT const char *qk_request_name(const qk_request *r);
/* Borrowed: the arguments object ({} when absent). */
QK_EXPORT qk_json *qk_request_arguments(const qk_request *r);
/* Borrowed: the id, or NULL when the request had none. */
QK_EXPORT qk_json *qk_request_id(const qk_request *r);
QK_EXPORT bool qk_request_is_oob(const qk_request *r);
QK_EXPORT qk_command_fn qk_request_handler(const qk_request *r,
                                           void **opaque);
/* Number of file descriptors received with the request still unclaimed. */
QK_EXPORT size_t qk_request_fd_count(const qk_request *r);
/* Claims the oldest unclaimed fd (the caller owns it), or -1. */
QK_EXPORT int qk_request_take_fd(qk_request *r);

/*
 * Answers a request and frees it: ret (may be NULL: {}) and err are
 * consumed; err wins when both are set. Unclaimed fds are closed. May be
 * called from any thread. Returns 0 or QK_ERR_NOMEM (the reply could not
 * be built; an "out of memory" error reply is sent if possible).
 */
QK_EXPORT int qk_request_complete(qk_request *r, qk_json *ret, qk_error *err);

/*
 * Runs every ready request synchronously through the command table's
 * handlers. Returns the number of requests run, or a negative error.
 */
QK_EXPORT int qk_session_dispatch(qk_session *s);

/* True once qmp_capabilities has succeeded (always true for an agent). */
QK_EXPORT bool qk_session_in_command_mode(qk_session *s);
QK_EXPORT bool qk_session_oob_enabled(qk_session *s);

/*
 * Builds an event message {"timestamp": {"seconds": S, "microseconds": U},
 * "event": name, "data": data}. data (consumed) may be NULL: no "data".
 * time_us < 0 gives the -1/-1 timestamp. NULL on out of memory.
 */
QK_EXPORT qk_json *qk_event_new(const char *name, qk_json *data,
                                int64_t time_us);
/*
 * Queues an event message (borrowed) for output. Dropped silently (0)
 * unless the server session is in command mode and not a guest agent.
 * Returns 0, QK_ERR_NOMEM or QK_ERR_STATE (not a server session).
 */
QK_EXPORT int qk_session_send_event(qk_session *s, const qk_json *event);
/*
 * As qk_session_send_event, for an event already written in the compact
 * form (qk_json_write with flags 0, no line end), so that one event sent
 * to many sessions is written once. QK_ERR_INVAL for a pretty-printing
 * session (use qk_session_send_event).
 */
QK_EXPORT int qk_session_send_event_text(qk_session *s, const char *text,
                                         size_t len);

/* ---- event throttle ------------------------------------------------------
 *
 * QEMU's per-event rate limiting, with the clock passed in: for a
 * throttled event at most one message per period and key goes out; the
 * first at once, later ones replace each other and the last is sent when
 * the period ends (keeping its own timestamp), restarting the period.
 */
typedef struct qk_event_throttle qk_event_throttle;
/* Receives each event to send (borrowed), e.g. to broadcast it. Called
 * with the throttle's lock held: do not call back into the throttle. */
typedef void (*qk_event_sink)(const qk_json *event, void *opaque);

QK_EXPORT int qk_event_throttle_new(qk_event_sink sink, void *opaque,
                                    qk_event_throttle **out);
QK_EXPORT void qk_event_throttle_free(qk_event_throttle *t);
/* Throttles an event name: at most one per period_us per key. key_member
 * (may be NULL) names a member of "data" whose string value refines the
 * key. period_us 0 removes the throttling. Returns 0 or QK_ERR_NOMEM. */
QK_EXPORT int qk_event_throttle_set(qk_event_throttle *t, const char *event,
                                    int64_t period_us,
                                    const char *key_member);
/* QEMU's table: the nine throttled events, 1 s each, with their keys. */
QK_EXPORT int qk_event_throttle_set_qemu_defaults(qk_event_throttle *t);
/* Sends (through the sink) or holds an event message (consumed). */
QK_EXPORT int qk_event_throttle_emit(qk_event_throttle *t, qk_json *event,
                                     int64_t now_us);
/* Ends the periods that are over at now_us, sending held events. */
QK_EXPORT int qk_event_throttle_tick(qk_event_throttle *t, int64_t now_us);
/* When the next period ends (the time to call tick), or -1 if none. */
QK_EXPORT int64_t qk_event_throttle_deadline(qk_event_throttle *t);

/* ---- client role -------------------------------------------------------- */

enum {
    QK_CLIENT_WANT_OOB = 1u << 0,     /* enable "oob" when offered */
    QK_CLIENT_GUEST_AGENT = 1u << 1,  /* qemu-ga: no greeting */
};

/*
 * A reply callback. status 0: the reply arrived; ret (borrowed) is its
 * "return" value or err (borrowed) its error. status < 0: the request
 * failed locally (QK_ERR_STATE: the session was reset or resynchronised,
 * or the negotiation failed) and ret and err are NULL.
 */
typedef void (*qk_reply_fn)(qk_session *s, int status, qk_json *ret,
                            const qk_error *err, void *opaque);

typedef struct qk_client_config {
    unsigned flags; /* QK_CLIENT_* */
    size_t max_message;   /* largest message accepted; 0: 64 MiB */
    unsigned max_depth;   /* 0: 1024 */
    size_t max_in_flight; /* 0: no limit */
    /* Every event as soon as it is parsed (borrowed). */
    void (*on_event)(qk_session *s, qk_json *event, void *opaque);
    /* The greeting (borrowed), before negotiation starts. May be NULL. */
    void (*on_greeting)(qk_session *s, qk_json *greeting, void *opaque);
    /* Negotiation (or a guest-agent sync) finished: status 0, or < 0 with
     * err (borrowed) the server's refusal. May be NULL. */
    void (*on_ready)(qk_session *s, int status, const qk_error *err,
                     void *opaque);
    /* An error that belongs to no request: an error reply without id (the
     * server could not parse something) or input we cannot parse. msg is
     * the reply (borrowed) or NULL. The session goes on. May be NULL. */
    void (*on_error)(qk_session *s, const qk_error *err, qk_json *msg,
                     void *opaque);
    void *opaque;
    uint64_t seed; /* seeds guest-sync ids; 0: from the clock */
} qk_client_config;

QK_EXPORT int qk_session_new_client(const qk_client_config *cfg,
                                    qk_session **out);

enum {
    QK_CALL_OOB = 1u << 0, /* "exec-oob" (in band if oob is not enabled) */
};

/*
 * Sends a request; args (consumed, may be NULL) must be an object. fds
 * (consumed) travel with the request's first byte. Requests made before
 * negotiation completes are held and sent once it has. *id_out (may be
 * NULL) gets the id allocated. Returns 0, QK_ERR_NOMEM, QK_ERR_INVAL,
 * QK_ERR_LIMIT (max_in_flight reached) or QK_ERR_STATE (session failed).
 */
QK_EXPORT int qk_session_call(qk_session *s, const char *name, qk_json *args,
                              unsigned flags, const int *fds, size_t nfds,
                              qk_reply_fn cb, void *opaque, int64_t *id_out);
/*
 * Guest-agent resynchronisation: sends 0xFF and guest-sync-delimited with
 * a fresh random id, then discards input up to the 0xFF sentinel and the
 * matching reply; on_ready reports the end. Requests in flight fail with
 * QK_ERR_STATE. Use on connect and after a timeout.
 */
QK_EXPORT int qk_session_guest_sync(qk_session *s);
/* True when requests are sent at once (negotiated or synced). */
QK_EXPORT bool qk_session_is_ready(qk_session *s);
/* Requests sent or held whose reply has not come. */
QK_EXPORT size_t qk_session_in_flight(qk_session *s);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_SESSION_H */
