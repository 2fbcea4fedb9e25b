/* SPDX-License-Identifier: MIT */
/*
 * The I/O loop: one epoll set holds the listeners, every session's
 * descriptors and an eventfd that other threads write to when a session
 * needs the I/O thread (events queued, input to resume, a session to
 * close). Level-triggered: a session not to be read simply has EPOLLIN
 * removed. The same step runs on the I/O thread or, with
 * QK_SRV_NO_IO_THREAD, from the application's loop.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "server-int.h"

#define QK_EVENTS 256

int qk__epoll_add(qk_server *srv, int fd, uint32_t ev, qk_handle *h)
{
    struct epoll_event e = {.events = ev, .data.ptr = h};
    return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? QK_ERR_IO : 0;
}

/* Services the sessions other threads flagged. Each is unflagged as it
 * is taken, so a flag set meanwhile queues it again (never lost); the
 * round is bounded so a stream of events cannot keep us here. */
static void drain_dirty(qk_server *srv)
{
    for (int n = 0; n < 8192; n++) {
        pthread_mutex_lock(&srv->mu);
        qk_conn *c = srv->dirty_head;
        if (c) {
            srv->dirty_head = c->dnext;
            c->dnext = NULL;
            c->dirty = false;
        }
        pthread_mutex_unlock(&srv->mu);
        if (!c)
            return;
        qk__conn_service(c, 0);
        qk__conn_unref(c);
    }
    qk__srv_wake(srv); /* more to do: come back after the next poll */
}

static void bury(qk_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    qk_conn *g = srv->grave;
    srv->grave = NULL;
    pthread_mutex_unlock(&srv->mu);
    while (g) {
        qk_conn *c = g;
        g = c->next;
        c->next = NULL;
        qk__conn_unref(c);
    }
}

int qk__loop_step(qk_server *srv, int timeout_ms)
{
    struct epoll_event evs[QK_EVENTS];
    if (srv->accept_retry_ms) {
        int64_t left = srv->accept_retry_ms - qk__now_ms();
        if (left < 0)
            left = 0;
        if (timeout_ms < 0 || left < timeout_ms)
            timeout_ms = (int)left;
    }
    int n = epoll_wait(srv->epfd, evs, QK_EVENTS, timeout_ms);
    if (n < 0) {
        if (errno != EINTR)
            return QK_ERR_IO;
        n = 0;
    }
    bool woken = false;
    for (int i = 0; i < n; i++) {
        qk_handle *h = evs[i].data.ptr;
        switch (h->kind) {
        case QK_H_LISTENER:
            qk__listener_accept(srv, (qk_listener *)h);
            break;
        case QK_H_WAKE: {
            uint64_t v;
            ssize_t r = read(srv->wake_fd, &v, sizeof(v));
            (void)r;
            atomic_store(&srv->wake_pending, false);
            woken = true;
            break;
        }
        case QK_H_CONN:
            qk__conn_service((qk_conn *)h, evs[i].events);
            break;
        case QK_H_CONN_OUT: {
            qk_conn *c = (qk_conn *)((char *)h - offsetof(qk_conn, hout));
            qk__conn_service(c, EPOLLOUT);
            break;
        }
        }
    }
    drain_dirty(srv);
    if (srv->accept_retry_ms && qk__now_ms() >= srv->accept_retry_ms)
        qk__listeners_resume(srv);
    bury(srv);
    if (woken && atomic_load(&srv->stopping)) {
        /* wake qk_server_run(): qk_server_stop() could not */
        pthread_mutex_lock(&srv->jmu);
        pthread_cond_broadcast(&srv->jcond);
        pthread_mutex_unlock(&srv->jmu);
    }
    return n;
}

int qk_server_io_step(qk_server *srv, int timeout_ms)
{
    if (!srv || !(srv->opt.flags & QK_SRV_NO_IO_THREAD))
        return QK_ERR_STATE;
    int n = qk__loop_step(srv, timeout_ms);
    return n < 0 ? n : 0;
}

int qk_server_io_fd(qk_server *srv)
{
    return srv ? srv->epfd : QK_ERR_INVAL;
}

int qk_server_io_timeout(qk_server *srv)
{
    if (!srv || !srv->accept_retry_ms)
        return -1;
    int64_t left = srv->accept_retry_ms - qk__now_ms();
    return left < 0 ? 0 : (int)left;
}
