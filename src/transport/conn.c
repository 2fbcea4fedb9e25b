/* SPDX-License-Identifier: MIT */
/*
 * One server session on a connection: reads in large chunks into the I/O
 * thread's buffer and feeds the engine, keeps what the engine refuses
 * (flow control) and stops reading meanwhile, runs out-of-band requests
 * at once, hands in-band ones to the dispatcher one at a time, writes with
 * sendmsg, and applies the output limits (docs/server.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "server-int.h"

_Thread_local qk_cur qk__cur;

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

int qk__conn_new(qk_server *srv, int rfd, int wfd, bool is_socket,
                 qk_conn **out)
{
    *out = NULL;
    if (set_nonblock(rfd) < 0 || (wfd != rfd && set_nonblock(wfd) < 0))
        return QK_ERR_IO;
    qk_conn *c = qk_calloc(1, sizeof(*c));
    if (!c)
        return QK_ERR_NOMEM;
    c->h.kind = QK_H_CONN;
    c->hout.kind = QK_H_CONN_OUT;
    c->srv = srv;
    atomic_init(&c->refs, 1);
    c->rfd = rfd;
    c->wfd = wfd;
    c->is_socket = is_socket;
    int rc = qk_session_new_server(&srv->opt.session, &c->s);
    if (rc < 0) {
        qk_free(c);
        return rc;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->fdmu, NULL);

    pthread_mutex_lock(&srv->mu);
    if (srv->nconns >= srv->opt.max_sessions) {
        pthread_mutex_unlock(&srv->mu);
        qk_session_free(c->s);
        pthread_mutex_destroy(&c->mu);
        pthread_mutex_destroy(&c->fdmu);
        qk_free(c);
        return QK_ERR_LIMIT;
    }
    c->id = ++srv->next_id;
    if (c->id == 0)
        c->id = ++srv->next_id;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    pthread_mutex_unlock(&srv->mu);

    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->h};
    pthread_mutex_lock(&c->mu);
    if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, rfd, &ev) < 0) {
        int e = errno;
        c->rfd = c->wfd = -1; /* the caller still owns and closes them */
        qk__conn_close_locked(c, "cannot poll the descriptor");
        pthread_mutex_unlock(&c->mu);
        errno = e;
        return QK_ERR_IO;
    }
    c->ev_in = EPOLLIN;
    qk__conn_flush_locked(c); /* the greeting */
    qk__conn_update_events_locked(c);
    pthread_mutex_unlock(&c->mu);
    qk__srv_log(srv, QK_SRV_LOG_DEBUG, "session %u opened", c->id);
    *out = c;
    return 0;
}

void qk__conn_ref(qk_conn *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void qk__conn_unref(qk_conn *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    qk_session_free(c->s);
    qk__named_fds_free(c);
    qk_free(c->pend);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->fdmu);
    qk_free(c);
}

bool qk__conn_flush_locked(qk_conn *c)
{
    if (c->closed || c->dead)
        return !c->dead;
    if (qk_session_output_lost(c->s)) {
        c->dead = true;
        c->dead_reason = "out of memory (a message could not be queued)";
        return false;
    }
    for (;;) {
        const void *data;
        size_t len = 0;
        const int *fds = NULL;
        size_t nfds = 0;
        qk_session_output(c->s, &data, &len, &fds, &nfds);
        if (len == 0)
            return true;
        ssize_t n = qk__send_fds(c->wfd, c->is_socket, data, len, fds, nfds);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            c->dead = true;
            c->dead_reason = "write failed (peer gone)";
            return false;
        }
        qk_session_output_consume(c->s, (size_t)n);
        if ((size_t)n < len)
            return true;
    }
}

void qk__conn_update_events_locked(qk_conn *c)
{
    if (c->closed)
        return;
    qk_server *srv = c->srv;
    size_t pending = qk_session_output_pending(c->s);
    c->in_paused = c->npend > 0 || pending > srv->opt.pause_output;
    uint32_t want = (c->in_paused || c->eof) ? 0 : EPOLLIN;
    bool want_out = pending > 0;
    if (c->wfd == c->rfd) {
        if (want_out)
            want |= EPOLLOUT;
        if (want != c->ev_in) {
            struct epoll_event ev = {.events = want, .data.ptr = &c->h};
            if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->rfd, &ev) == 0)
                c->ev_in = want;
        }
        return;
    }
    if (want != c->ev_in) {
        struct epoll_event ev = {.events = want, .data.ptr = &c->h};
        if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->rfd, &ev) == 0)
            c->ev_in = want;
    }
    if (want_out != c->out_armed) {
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = &c->hout};
        int rc = epoll_ctl(srv->epfd, want_out ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
                           c->wfd, &ev);
        if (rc == 0)
            c->out_armed = want_out;
        else if (want_out && errno == EPERM)
            c->out_armed = false; /* a regular file: always writable */
    }
}

void qk__conn_close_locked(qk_conn *c, const char *reason)
{
    if (c->closed)
        return;
    qk_server *srv = c->srv;
    c->closed = true;
    if (c->rfd >= 0)
        epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->rfd, NULL);
    if (c->wfd != c->rfd) {
        if (c->out_armed)
            epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->wfd, NULL);
        if (c->wfd >= 0)
            close(c->wfd);
    }
    if (c->rfd >= 0)
        close(c->rfd);
    c->rfd = c->wfd = -1;
    qk_free(c->pend);
    c->pend = NULL;
    c->npend = c->cpend = 0;

    pthread_mutex_lock(&srv->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = NULL;
    srv->nconns--;
    /* The base reference is dropped at the end of the I/O round, so that
     * events of the same epoll batch never see freed memory. */
    c->next = srv->grave;
    srv->grave = c;
    pthread_mutex_unlock(&srv->mu);

    qk__srv_log(srv, QK_SRV_LOG_INFO, "session %u closed: %s", c->id, reason);
    if (srv->opt.on_close)
        srv->opt.on_close(srv, c->id, reason, srv->opt.opaque);
}

void qk__conn_run_request(qk_conn *c, qk_request *r)
{
    void *opaque = NULL;
    qk_command_fn fn = qk_request_handler(r, &opaque);
    qk_json *ret = NULL;
    qk_error *err = NULL;
    qk_cur saved = qk__cur;
    qk__cur.c = c;
    qk__cur.r = r;
    if (fn)
        fn(qk_request_arguments(r), &ret, &err, opaque);
    else
        qk_error_setg(&err, QK_ERROR_COMMAND_NOT_FOUND,
                      "The command %s has not been found", qk_request_name(r));
    qk__cur = saved;
    qk_request_complete(r, ret, err);
}

/* Returns true when a job was set up that the caller must submit. */
static bool pull_inband_locked(qk_conn *c)
{
    if (c->ib_busy || c->closed || atomic_load(&c->srv->closing))
        return false;
    qk_request *r = qk_session_next_request(c->s, QK_NEXT_INBAND);
    if (!r)
        return false;
    c->ib_busy = true;
    c->job = r;
    qk__conn_ref(c);
    return true;
}

static void run_oob_locked(qk_conn *c)
{
    qk_request *r;
    while ((r = qk_session_next_request(c->s, QK_NEXT_OOB)))
        qk__conn_run_request(c, r);
}

static void feed_locked(qk_conn *c, const char *data, size_t len,
                        const int *fds, size_t nfds, size_t *consumed)
{
    *consumed = 0;
    int rc = qk_session_feed(c->s, data, len, fds, nfds, consumed);
    if (rc == QK_ERR_STATE) {
        c->dead = true;
        c->dead_reason = "protocol session failed";
    }
}

static bool stash(qk_conn *c, const char *data, size_t len)
{
    if (len == 0)
        return true;
    if (c->npend + len > c->cpend) {
        size_t cap = qk_grow_capacity(c->cpend, c->npend + len);
        char *p = qk_realloc(c->pend, cap);
        if (!p)
            return false;
        c->pend = p;
        c->cpend = cap;
    }
    memcpy(c->pend + c->npend, data, len);
    c->npend += len;
    return true;
}

/* Feeds input held back by flow control while the engine takes it. */
static bool feed_pending_locked(qk_conn *c, bool *submit)
{
    while (c->npend && !c->dead && qk_session_wants_input(c->s)) {
        size_t used = 0;
        feed_locked(c, c->pend, c->npend, NULL, 0, &used);
        memmove(c->pend, c->pend + used, c->npend - used);
        c->npend -= used;
        run_oob_locked(c);
        if (!*submit)
            *submit = pull_inband_locked(c);
        if (used == 0)
            break;
    }
    if (c->npend == 0 && c->pend) {
        qk_free(c->pend);
        c->pend = NULL;
        c->cpend = 0;
    }
    return c->npend == 0;
}

static void read_locked(qk_conn *c, bool *submit)
{
    qk_server *srv = c->srv;
    for (int round = 0; round < 4 && !c->dead && !c->eof; round++) {
        int fds[QK_SRV_MAX_FDS];
        size_t nfds = 0;
        ssize_t n = qk__recv_fds(c->rfd, c->is_socket, srv->rbuf,
                                 srv->rbuf_size, fds, QK_SRV_MAX_FDS, &nfds);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            c->dead = true;
            c->dead_reason = "read failed (peer gone)";
            break;
        }
        if (n == 0) {
            for (size_t i = 0; i < nfds; i++)
                close(fds[i]);
            c->eof = true;
            break;
        }
        size_t used = 0;
        feed_locked(c, srv->rbuf, (size_t)n, fds, nfds, &used);
        run_oob_locked(c);
        if (!*submit)
            *submit = pull_inband_locked(c);
        /* A request answered at once (a built-in) lets the engine take
         * the rest, often just the newline after it: feed it from here
         * rather than through the stash. */
        while (used < (size_t)n && !c->dead && !*submit &&
               qk_session_wants_input(c->s)) {
            size_t more = 0;
            feed_locked(c, srv->rbuf + used, (size_t)n - used, NULL, 0, &more);
            used += more;
            run_oob_locked(c);
            *submit = pull_inband_locked(c);
            if (more == 0)
                break;
        }
        if (used < (size_t)n) {
            if (!stash(c, srv->rbuf + used, (size_t)n - used)) {
                c->dead = true;
                c->dead_reason = "out of memory";
            }
            /* the engine may take more now that a request left */
            feed_pending_locked(c, submit);
            if (c->npend)
                break;
        }
        if ((size_t)n < srv->rbuf_size)
            break;
        if (qk_session_output_pending(c->s) > srv->opt.pause_output)
            break;
    }
}

void qk__conn_service(qk_conn *c, uint32_t events)
{
    qk_server *srv = c->srv;
    bool submit = false;
    qk__conn_ref(c);
    pthread_mutex_lock(&c->mu);
    if (c->closed)
        goto out;
    if (events & EPOLLOUT)
        qk__conn_flush_locked(c);
    if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
        if (events & EPOLLERR) {
            c->dead = true;
            c->dead_reason = "connection error";
        } else if (c->in_paused || c->eof) {
            c->dead = true;
            c->dead_reason = "peer hung up";
        } else {
            events |= EPOLLIN;
        }
    }
    if (c->npend)
        feed_pending_locked(c, &submit);
    if ((events & EPOLLIN) && !c->npend && !c->eof)
        read_locked(c, &submit);
    run_oob_locked(c);
    if (!submit)
        submit = pull_inband_locked(c);
    qk__conn_flush_locked(c);

    size_t pending = qk_session_output_pending(c->s);
    if (c->dead) {
        qk__conn_close_locked(c, c->dead_reason ? c->dead_reason : "error");
    } else if (pending > srv->opt.max_output) {
        char why[128];
        snprintf(why, sizeof(why),
                 "output limit exceeded (%zu bytes unread by the client)",
                 pending);
        qk__srv_log(srv, QK_SRV_LOG_WARNING, "session %u: %s", c->id, why);
        qk__conn_close_locked(c, "output limit exceeded");
    } else if (c->eof && !c->ib_busy && !submit && c->npend == 0 &&
               pending == 0) {
        qk__conn_close_locked(c, "end of input");
    } else {
        qk__conn_update_events_locked(c);
    }
out:
    pthread_mutex_unlock(&c->mu);
    if (submit)
        qk__dispatch_submit(srv, c);
    qk__conn_unref(c);
}
