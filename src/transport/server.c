/* SPDX-License-Identifier: MIT */
/*
 * The server's life cycle (create, start the I/O thread, stop, the
 * orderly shutdown of qk_server_free), events to every session, logging,
 * and waking the I/O thread from other threads.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server-int.h"

int64_t qk__now_ms(void)
{
    return qk__now_ns() / 1000000;
}

int64_t qk__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void qk__srv_log(qk_server *srv, int level, const char *fmt, ...)
{
    if (!srv->opt.log)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    srv->opt.log(level, msg, srv->opt.log_opaque);
}

void qk__srv_wake(qk_server *srv)
{
    if (atomic_exchange(&srv->wake_pending, true))
        return;
    uint64_t one = 1;
    ssize_t w = write(srv->wake_fd, &one, sizeof(one));
    (void)w;
}

static void mark_dirty_locked(qk_server *srv, qk_conn *c)
{
    if (c->dirty)
        return;
    c->dirty = true;
    qk__conn_ref(c);
    c->dnext = srv->dirty_head;
    srv->dirty_head = c;
}

void qk__srv_mark_dirty(qk_server *srv, qk_conn *c)
{
    pthread_mutex_lock(&srv->mu);
    mark_dirty_locked(srv, c);
    pthread_mutex_unlock(&srv->mu);
    qk__srv_wake(srv);
}

int qk_server_new(const qk_server_options *opt, qk_server **out)
{
    if (!opt || !out)
        return QK_ERR_INVAL;
    *out = NULL;
    qk_server *srv = qk_calloc(1, sizeof(*srv));
    if (!srv)
        return QK_ERR_NOMEM;
    srv->opt = *opt;
    if (!srv->opt.max_sessions)
        srv->opt.max_sessions = 4096;
    if (!srv->opt.max_output)
        srv->opt.max_output = (size_t)16 << 20;
    if (!srv->opt.pause_output)
        srv->opt.pause_output = (size_t)256 << 10;
    if (!srv->opt.poll_ns)
        srv->opt.poll_ns = 50000;
    srv->rbuf_size = QK_SRV_RBUF;
    srv->rbuf = qk_malloc(srv->rbuf_size);
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    srv->disp_fd = -1;
    srv->wake_h.kind = QK_H_WAKE;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_mutex_init(&srv->jmu, NULL);
    pthread_cond_init(&srv->jcond, NULL);
    pthread_cond_init(&srv->icond, NULL);
    int rc = 0;
    if (!srv->rbuf)
        rc = QK_ERR_NOMEM;
    else if (srv->epfd < 0 || srv->wake_fd < 0 ||
             qk__epoll_add(srv, srv->wake_fd, EPOLLIN, &srv->wake_h) < 0)
        rc = QK_ERR_IO;
    if (rc < 0) {
        srv->opt.session.commands = NULL;
        srv->opt.session.version = srv->opt.session.schema = NULL;
        qk_server_free(srv);
        return rc;
    }
    if (srv->opt.session.commands)
        qk_command_table_ref(srv->opt.session.commands);
    if (srv->opt.session.version)
        qk_json_ref(srv->opt.session.version);
    if (srv->opt.session.schema)
        qk_json_ref(srv->opt.session.schema);
    *out = srv;
    return 0;
}

/* Polling only pays when another CPU can run the client meanwhile. */
static bool several_cpus(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) > 1;
}

/*
 * The I/O thread. After a round that served one event (a client in a
 * request/reply loop) it keeps looking for the next for up to poll_ns,
 * yielding the CPU, instead of sleeping: on a VM, waking an idle CPU
 * costs more than the rest of the round trip. A round with several events
 * means other sessions keep it busy anyway, and on a single CPU the client
 * could not run while we poll, so then it sleeps at once.
 */
static void *io_thread(void *arg)
{
    qk_server *srv = arg;
    int64_t poll_until = 0; /* look without sleeping until then */
    int64_t cpus_checked = 0;
    bool may_poll = srv->opt.poll_ns > 0;
    while (!atomic_load(&srv->closing)) {
        bool polling = may_poll && qk__now_ns() < poll_until;
        int n = qk__loop_step(srv, polling ? 0 : -1);
        if (n < 0) {
            qk__srv_log(srv, QK_SRV_LOG_ERROR, "epoll_wait failed");
            break;
        }
        if (n == 1 && srv->opt.poll_ns > 0) {
            int64_t now = qk__now_ns();
            if (now - cpus_checked > 100000000) { /* the CPU set may change */
                may_poll = several_cpus();
                cpus_checked = now;
            }
            poll_until = now + srv->opt.poll_ns;
        } else if (n > 1) {
            poll_until = 0;
        } else if (polling) {
            sched_yield();
        }
    }
    return NULL;
}

int qk_server_start(qk_server *srv)
{
    if (!srv)
        return QK_ERR_INVAL;
    if (srv->io_started || (srv->opt.flags & QK_SRV_NO_IO_THREAD))
        return 0;
    if (pthread_create(&srv->io_thread, NULL, io_thread, srv) != 0)
        return QK_ERR_IO;
    srv->io_started = true;
    return 0;
}

void qk_server_stop(qk_server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->stopping, true);
    /* an eventfd write is async-signal-safe; wake_pending is not
     * consulted so that a stop is never lost */
    uint64_t one = 1;
    ssize_t w = write(srv->wake_fd, &one, sizeof(one));
    (void)w;
}

bool qk_server_stopped(qk_server *srv)
{
    return srv && atomic_load(&srv->stopping);
}

int qk_server_add_connection(qk_server *srv, int in_fd, int out_fd,
                             unsigned *session_id)
{
    if (!srv || in_fd < 0 || out_fd < 0)
        return QK_ERR_INVAL;
    int type = 0;
    socklen_t tl = sizeof(type);
    bool is_socket = in_fd == out_fd &&
        getsockopt(in_fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
    qk_conn *c;
    int rc = qk__conn_new(srv, in_fd, out_fd, is_socket, &c);
    if (rc < 0) {
        close(in_fd);
        if (out_fd != in_fd)
            close(out_fd);
        return rc;
    }
    if (session_id)
        *session_id = c->id;
    return 0;
}

size_t qk_server_session_count(qk_server *srv)
{
    if (!srv)
        return 0;
    pthread_mutex_lock(&srv->mu);
    size_t n = srv->nconns;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

int qk_server_broadcast(qk_server *srv, const qk_json *event)
{
    if (!srv || !event)
        return QK_ERR_INVAL;
    /* written once for every session (unless pretty-printing) */
    char *text = NULL;
    size_t len = 0;
    if (!(srv->opt.session.flags & QK_SERVER_PRETTY)) {
        text = qk_json_to_string(event, 0, &len);
        if (!text)
            return QK_ERR_NOMEM;
    }
    int n = 0, rc = 0;
    bool marked = false;
    pthread_mutex_lock(&srv->mu);
    for (qk_conn *c = srv->conns; c; c = c->next) {
        if (!qk_session_in_command_mode(c->s))
            continue;
        int r = text ? qk_session_send_event_text(c->s, text, len)
                     : qk_session_send_event(c->s, event);
        if (r < 0)
            rc = r;
        else
            n++;
        /* either way the I/O thread looks: to write the event, or to close
         * a session that lost it */
        mark_dirty_locked(srv, c);
        marked = true;
    }
    pthread_mutex_unlock(&srv->mu);
    qk_free(text);
    if (marked)
        qk__srv_wake(srv);
    return rc < 0 && n == 0 ? rc : n;
}

int qk_server_emit(qk_server *srv, const char *name, qk_json *data)
{
    if (!srv || !name) {
        qk_json_unref(data);
        return QK_ERR_INVAL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    qk_json *ev = qk_event_new(name, data, (int64_t)ts.tv_sec * 1000000 +
                               ts.tv_nsec / 1000);
    if (!ev)
        return QK_ERR_NOMEM;
    int rc = qk_server_broadcast(srv, ev);
    qk_json_unref(ev);
    return rc;
}

void qk_server_free(qk_server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->closing, true);
    atomic_store(&srv->stopping, true);
    if (srv->wake_fd >= 0)
        qk_server_stop(srv);
    if (srv->io_started)
        pthread_join(srv->io_thread, NULL);
    if (srv->epfd >= 0)
        qk__listeners_free(srv);
    /* queued in-band requests: answered with an error; running ones:
     * waited for */
    qk__dispatch_cancel_all(srv);
    qk__dispatch_wait_idle(srv);
    for (;;) {
        pthread_mutex_lock(&srv->mu);
        qk_conn *c = srv->conns;
        if (c)
            qk__conn_ref(c);
        pthread_mutex_unlock(&srv->mu);
        if (!c)
            break;
        pthread_mutex_lock(&c->mu);
        qk__conn_flush_locked(c); /* best effort, non-blocking */
        qk__conn_close_locked(c, "server shut down");
        pthread_mutex_unlock(&c->mu);
        qk__conn_unref(c);
    }
    /* dirty references, then the closed sessions' base references */
    pthread_mutex_lock(&srv->mu);
    qk_conn *d = srv->dirty_head;
    srv->dirty_head = NULL;
    pthread_mutex_unlock(&srv->mu);
    while (d) {
        qk_conn *next = d->dnext;
        d->dirty = false;
        qk__conn_unref(d);
        d = next;
    }
    qk_conn *g = srv->grave;
    srv->grave = NULL;
    while (g) {
        qk_conn *next = g->next;
        qk__conn_unref(g);
        g = next;
    }
    if (srv->epfd >= 0)
        close(srv->epfd);
    if (srv->wake_fd >= 0)
        close(srv->wake_fd);
    if (srv->disp_fd >= 0)
        close(srv->disp_fd);
    qk_free(srv->rbuf);
    qk_command_table_unref(srv->opt.session.commands);
    qk_json_unref(srv->opt.session.version);
    qk_json_unref(srv->opt.session.schema);
    pthread_mutex_destroy(&srv->mu);
    pthread_mutex_destroy(&srv->jmu);
    pthread_cond_destroy(&srv->jcond);
    pthread_cond_destroy(&srv->icond);
    qk_free(srv);
}
