/* SPDX-License-Identifier: MIT */
/*
 * qmpkit/server.h: a QMP server runtime over the sans-I/O engine.
 *
 * A qk_server listens on unix sockets, TCP, inherited descriptors (systemd
 * socket activation) and stdio, and serves many sessions at once. Threads
 * follow QMP's out-of-band design:
 *
 *  - one I/O thread reads, parses, runs out-of-band commands and writes;
 *    in-band work never runs there, so a slow command cannot block it;
 *  - in-band commands run on a dispatcher, in order per session: the thread
 *    that calls qk_server_run() (the application's main thread), or an
 *    executor the application supplies, or the application's own loop
 *    through qk_server_dispatch_fd() and qk_server_dispatch();
 *  - events may be emitted from any thread and reach every session in
 *    command mode.
 *
 * Embedding: with QK_SRV_NO_IO_THREAD the server starts no thread; the
 * application polls qk_server_io_fd() (an epoll descriptor, readable when
 * anything is ready) and calls qk_server_io_step() with a zero timeout.
 *
 * Limits (see docs/server.md): a session whose unwritten output passes
 * pause_output is not read until the client catches up; one passing
 * max_output (events keep coming to a client that never reads) is closed
 * and the reason is logged; replies are never dropped silently. Sessions
 * beyond max_sessions are accepted and closed at once (logged).
 *
 * The library never prints: messages go to the log callback, if any.
 */
#ifndef QMPKIT_SERVER_H
#define QMPKIT_SERVER_H

#include <sys/types.h>

#include "common.h"
#include "error.h"
#include "json.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_server qk_server;

enum {
    QK_SRV_LOG_ERROR = 0,
    QK_SRV_LOG_WARNING = 1,
    QK_SRV_LOG_INFO = 2,
    QK_SRV_LOG_DEBUG = 3,
};

enum {
    /* Start no I/O thread: the application drives qk_server_io_step(). */
    QK_SRV_NO_IO_THREAD = 1u << 0,
};

/* Runs fn(arg) once, on any thread, later or now. */
typedef void (*qk_executor_fn)(void (*fn)(void *arg), void *arg,
                               void *opaque);

typedef struct qk_server_options {
    /* What each session is created with (commands, flags, version,
     * schema, limits); references are taken. */
    qk_server_config session;
    unsigned flags;         /* QK_SRV_* */
    size_t max_sessions;    /* 0: 4096 */
    size_t max_output;      /* unwritten bytes per session; 0: 16 MiB */
    size_t pause_output;    /* stop reading above this; 0: 256 KiB */
    /* After work, the I/O thread and qk_server_run() keep looking for
     * more this long (yielding the CPU) before they sleep: a client in a
     * request/reply loop is then served without a wake-up. 0: 50 us;
     * negative: never. */
    long poll_ns;
    /* In-band commands go to executor when set, else to the dispatcher
     * queue (qk_server_run() or qk_server_dispatch()). The executor must
     * run every job it is given, also while qk_server_free() waits. */
    qk_executor_fn executor;
    void *executor_opaque;
    /* Log messages (never printed by the library); may be NULL. */
    void (*log)(int level, const char *msg, void *opaque);
    void *log_opaque;
    /* A session ended; reason is a short text. Called on the I/O thread.
     * May be NULL. */
    void (*on_close)(qk_server *srv, unsigned session_id, const char *reason,
                     void *opaque);
    void *opaque;
} qk_server_options;

/* *out gets a new server. Returns 0, QK_ERR_NOMEM, QK_ERR_INVAL or
 * QK_ERR_IO (epoll or eventfd failed). Nothing is listening yet. */
QK_EXPORT int qk_server_new(const qk_server_options *opt, qk_server **out);

/*
 * Listens on a unix socket at path (an existing socket file is replaced).
 * mode 0 means 0600. The file is removed when the server is freed.
 * Returns 0, QK_ERR_INVAL (path too long), QK_ERR_NOMEM or QK_ERR_IO.
 */
QK_EXPORT int qk_server_listen_unix(qk_server *srv, const char *path,
                                    mode_t mode);
/*
 * Listens on TCP. host NULL means 127.0.0.1; port 0 picks a free port,
 * written to *bound_port (may be NULL). Returns 0, QK_ERR_INVAL,
 * QK_ERR_NOMEM or QK_ERR_IO.
 */
QK_EXPORT int qk_server_listen_tcp(qk_server *srv, const char *host,
                                   unsigned port, unsigned *bound_port);
/* Adopts a listening socket (owned by the server from now on, even on
 * failure). Returns 0, QK_ERR_NOMEM or QK_ERR_IO. */
QK_EXPORT int qk_server_listen_fd(qk_server *srv, int fd);
/* systemd socket activation: adopts every descriptor in LISTEN_FDS when
 * LISTEN_PID is ours. Returns how many, or a negative error. */
QK_EXPORT int qk_server_listen_systemd(qk_server *srv);
/*
 * Serves one session on connected descriptors (a socket: in_fd == out_fd;
 * stdio: 0 and 1). They become non-blocking and are owned (closed) by the
 * server. *session_id (may be NULL) gets the session's id. Returns 0,
 * QK_ERR_LIMIT, QK_ERR_NOMEM or QK_ERR_IO.
 */
QK_EXPORT int qk_server_add_connection(qk_server *srv, int in_fd, int out_fd,
                                       unsigned *session_id);

/* Starts the I/O thread (not with QK_SRV_NO_IO_THREAD). Idempotent.
 * Returns 0 or QK_ERR_IO. */
QK_EXPORT int qk_server_start(qk_server *srv);
/*
 * Starts the server if needed and runs in-band commands on the calling
 * thread until qk_server_stop(). Returns 0, QK_ERR_IO, or QK_ERR_STATE
 * with QK_SRV_NO_IO_THREAD (use qk_server_io_step() and
 * qk_server_dispatch() instead).
 */
QK_EXPORT int qk_server_run(qk_server *srv);
/* Makes qk_server_run() return. Any thread; async-signal-safe. */
QK_EXPORT void qk_server_stop(qk_server *srv);
QK_EXPORT bool qk_server_stopped(qk_server *srv);

/*
 * Shuts down: stops accepting, answers queued in-band commands with an
 * error, waits for running ones (handlers must return), writes what it
 * can, closes every session and descriptor, and frees everything. Call it
 * once qk_server_run() has returned. NULL is a no-op.
 */
QK_EXPORT void qk_server_free(qk_server *srv);

/* ---- embedding ---------------------------------------------------------- */

/* Readable when in-band commands wait; then call qk_server_dispatch(). */
QK_EXPORT int qk_server_dispatch_fd(qk_server *srv);
/* Runs the in-band commands waiting now. Returns how many. */
QK_EXPORT int qk_server_dispatch(qk_server *srv);
/* With QK_SRV_NO_IO_THREAD: readable when I/O is ready. */
QK_EXPORT int qk_server_io_fd(qk_server *srv);
/* Milliseconds until qk_server_io_step() must run anyway, or -1. */
QK_EXPORT int qk_server_io_timeout(qk_server *srv);
/* One round of I/O, waiting at most timeout_ms (0: poll, -1: forever).
 * Only with QK_SRV_NO_IO_THREAD. Returns 0 or a negative error. */
QK_EXPORT int qk_server_io_step(qk_server *srv, int timeout_ms);

/* ---- events ------------------------------------------------------------- */

/* Sends an event message (borrowed, e.g. from qk_event_new()) to every
 * session in command mode. Any thread. Returns the number of sessions it
 * was queued for, or QK_ERR_NOMEM. */
QK_EXPORT int qk_server_broadcast(qk_server *srv, const qk_json *event);
/* Builds an event stamped with the current time and broadcasts it; data
 * (consumed) may be NULL. Returns as qk_server_broadcast(). */
QK_EXPORT int qk_server_emit(qk_server *srv, const char *name, qk_json *data);

/* Sessions open now. */
QK_EXPORT size_t qk_server_session_count(qk_server *srv);

/* ---- inside a command handler -------------------------------------------
 *
 * While the server runs a handler, these reach the request and session it
 * runs for (thread-local; outside a handler they fail or return -1).
 */

/* The server running the current handler, or NULL. */
QK_EXPORT qk_server *qk_server_current(void);
/* The current session's id, or 0. */
QK_EXPORT unsigned qk_server_current_session(void);
/* Claims the oldest unclaimed fd received with the request, or -1. */
QK_EXPORT int qk_server_take_fd(void);
/*
 * Takes the fd the session stored under name with getfd (the caller owns
 * it), or -1.
 */
QK_EXPORT int qk_server_take_named_fd(const char *name);
/*
 * Registers QEMU-compatible getfd {'fdname': 'str'} and closefd
 * {'fdname': 'str'} in a table. Returns as qk_command_table_add().
 */
QK_EXPORT int qk_server_add_fd_commands(qk_command_table *t);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_SERVER_H */
