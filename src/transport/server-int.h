/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the QMP server runtime (include/qmpkit/server.h),
 * shared by src/transport: listen.c (sockets, accept), conn.c (one
 * session's reads, writes and limits), loop.c (the epoll loop and the I/O
 * thread), dispatch.c (in-band queue, dispatcher, executor), fdpass.c
 * (SCM_RIGHTS, getfd/closefd), server.c (life cycle, events).
 *
 * Locks, always taken in this order: conn->mu, then srv->mu, then the
 * engine's own session lock (inside qk_session_*). srv->jmu (the job
 * queue) is never held while taking another lock.
 */
#ifndef QK_SERVER_INT_H
#define QK_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "common/alloc-int.h"
#include "qmpkit/server.h"

enum { QK_H_LISTENER, QK_H_CONN, QK_H_CONN_OUT, QK_H_WAKE };

typedef struct qk_handle {
    int kind; /* QK_H_* */
} qk_handle;

typedef struct qk_listener {
    qk_handle h;
    int fd;
    char *unlink_path; /* unix socket file to remove, or NULL */
    bool paused;       /* out of descriptors: retried later */
    struct qk_listener *next;
} qk_listener;

typedef struct qk_named_fd {
    char *name;
    int fd;
    struct qk_named_fd *next;
} qk_named_fd;

typedef struct qk_conn {
    qk_handle h;      /* rfd's epoll entry */
    qk_handle hout;   /* wfd's entry when it is not rfd */
    qk_server *srv;
    atomic_int refs;
    unsigned id;
    pthread_mutex_t mu; /* writing, epoll masks, state below */
    int rfd, wfd;
    bool is_socket;
    bool closed;        /* descriptors closed, unlinked */
    bool dead;          /* must be closed by the I/O thread */
    const char *dead_reason;
    bool eof;           /* peer finished sending */
    bool ib_busy;       /* an in-band request is with the dispatcher */
    bool in_paused;     /* not reading: flow control or slow peer */
    uint32_t ev_in;     /* epoll mask registered for rfd */
    bool out_armed;     /* EPOLLOUT registered */
    qk_session *s;
    /* input the engine did not take (flow control) */
    char *pend;
    size_t npend, cpend;
    /* the in-band request given to the dispatcher */
    qk_request *job;
    struct qk_conn *jnext;
    /* all sessions (srv->mu) */
    struct qk_conn *prev, *next;
    /* sessions the I/O thread must look at (srv->mu) */
    struct qk_conn *dnext;
    bool dirty;
    /* getfd's descriptors (fdmu) */
    pthread_mutex_t fdmu;
    qk_named_fd *named;
} qk_conn;

struct qk_server {
    qk_server_options opt;
    int epfd;
    qk_handle wake_h;
    int wake_fd;                /* eventfd: wakes the I/O loop */
    atomic_bool wake_pending;
    atomic_bool stopping;       /* qk_server_stop() was called */
    atomic_bool closing;        /* qk_server_free() runs */
    pthread_t io_thread;
    bool io_started;
    qk_listener *listeners;
    int64_t accept_retry_ms;    /* when paused listeners resume, or 0 */

    pthread_mutex_t mu;         /* sessions, dirty list, counters */
    qk_conn *conns;
    size_t nconns;
    unsigned next_id;
    qk_conn *dirty_head;
    qk_conn *grave;             /* closed, base reference not yet dropped */

    /* in-band jobs */
    pthread_mutex_t jmu;
    pthread_cond_t jcond;       /* a job was queued */
    pthread_cond_t icond;       /* jobs_out reached 0 */
    qk_conn *jhead, *jtail;
    size_t jobs_out;            /* handed out and not finished */
    int disp_fd;                /* eventfd for embedding, -1 until asked */
    bool disp_signalled;

    char *rbuf;                 /* the I/O thread's read buffer */
    size_t rbuf_size;
};

#define QK_SRV_RBUF (64 * 1024)
#define QK_SRV_MAX_FDS 16 /* per recvmsg */

/* server.c */
void qk__srv_log(qk_server *srv, int level, const char *fmt, ...)
    QK_PRINTF(3, 4);
void qk__srv_wake(qk_server *srv);
/* Queues c for the I/O thread (takes a reference) and wakes it. */
void qk__srv_mark_dirty(qk_server *srv, qk_conn *c);
int64_t qk__now_ms(void);
int64_t qk__now_ns(void);

/* conn.c */
int qk__conn_new(qk_server *srv, int rfd, int wfd, bool is_socket,
                 qk_conn **out);
void qk__conn_ref(qk_conn *c);
void qk__conn_unref(qk_conn *c);
/* The I/O thread's work on a session: read, feed, hand out requests, run
 * OOB ones, write, enforce the limits, update epoll. */
void qk__conn_service(qk_conn *c, uint32_t epoll_events);
/* Writes what the socket takes (c->mu held). Returns false on a write
 * error (c->dead set). */
bool qk__conn_flush_locked(qk_conn *c);
/* Updates the epoll masks from the state (c->mu held). */
void qk__conn_update_events_locked(qk_conn *c);
/* Closes descriptors and unlinks the session (c->mu held). */
void qk__conn_close_locked(qk_conn *c, const char *reason);
/* Runs a request's handler with the thread-local context set and
 * completes it. */
void qk__conn_run_request(qk_conn *c, qk_request *r);

/* dispatch.c */
void qk__dispatch_submit(qk_server *srv, qk_conn *c);
void qk__dispatch_cancel_all(qk_server *srv);
void qk__dispatch_wait_idle(qk_server *srv);

/* loop.c */
/* One epoll round; returns the number of events, or QK_ERR_IO. */
int qk__loop_step(qk_server *srv, int timeout_ms);
int qk__epoll_add(qk_server *srv, int fd, uint32_t ev, qk_handle *h);

/* listen.c */
void qk__listener_accept(qk_server *srv, qk_listener *l);
void qk__listeners_free(qk_server *srv);
void qk__listeners_resume(qk_server *srv);

/* fdpass.c */
/* recvmsg into buf; fds received go to fds/nfds (at most max). Returns
 * bytes, 0 at end of stream, -1 with errno. */
ssize_t qk__recv_fds(int fd, bool is_socket, void *buf, size_t len,
                     int *fds, size_t max, size_t *nfds);
/* sendmsg with fds (nfds may be 0). Returns bytes or -1 with errno. */
ssize_t qk__send_fds(int fd, bool is_socket, const void *buf, size_t len,
                     const int *fds, size_t nfds);
void qk__named_fds_free(qk_conn *c);

/* thread-local handler context */
typedef struct qk_cur {
    qk_conn *c;
    qk_request *r;
} qk_cur;
extern _Thread_local qk_cur qk__cur;

#endif /* QK_SERVER_INT_H */
