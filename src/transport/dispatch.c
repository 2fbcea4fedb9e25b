/* SPDX-License-Identifier: MIT */
/*
 * The in-band side: a FIFO of sessions whose next in-band request waits,
 * run by qk_server_run() on the application's thread, by
 * qk_server_dispatch() from the application's loop, or handed to the
 * application's executor. Each session has at most one job at a time, so
 * its commands run in order; the dispatcher runs a few of a session's
 * requests in a row (taking the next one from the engine itself, without
 * a round trip through the I/O thread), then moves on so no session
 * starves the others. Replies are written here directly; the I/O thread
 * is woken only when it has something to do (input held back, output the
 * socket did not take).
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "server-int.h"

#define QK_BATCH 8 /* requests of one session in a row */

static void job_done(qk_server *srv)
{
    pthread_mutex_lock(&srv->jmu);
    srv->jobs_out--;
    if (srv->jobs_out == 0)
        pthread_cond_broadcast(&srv->icond);
    pthread_mutex_unlock(&srv->jmu);
}

static void run_job(void *arg)
{
    qk_conn *c = arg;
    qk_server *srv = c->srv;
    bool wake_io = false;
    bool requeue = false;
    for (int n = 0;; n++) {
        qk_request *r = c->job;
        pthread_mutex_lock(&c->mu);
        bool gone = c->closed;
        pthread_mutex_unlock(&c->mu);
        if (gone || atomic_load(&srv->closing)) {
            qk_error *err = NULL;
            qk_error_setg(&err, QK_ERROR_GENERIC, gone ?
                          "Session closed" : "Server is shutting down");
            qk_request_complete(r, NULL, err);
        } else {
            qk__conn_run_request(c, r);
        }
        pthread_mutex_lock(&c->mu);
        r = NULL;
        if (!c->closed && !atomic_load(&srv->closing))
            r = qk_session_next_request(c->s, QK_NEXT_INBAND);
        c->job = r;
        if (!r)
            c->ib_busy = false;
        if (!c->closed) {
            qk__conn_flush_locked(c);
            if (c->dead || c->in_paused || c->npend || c->eof ||
                qk_session_output_pending(c->s) > srv->opt.max_output)
                wake_io = true;
            else
                qk__conn_update_events_locked(c);
        }
        pthread_mutex_unlock(&c->mu);
        if (!r)
            break;
        if (n + 1 >= QK_BATCH) {
            requeue = true;
            break;
        }
    }
    if (wake_io)
        qk__srv_mark_dirty(srv, c);
    if (requeue) {
        /* keeps the reference and the job slot; counted as a new job */
        qk__dispatch_submit(srv, c);
        job_done(srv);
        return;
    }
    qk__conn_unref(c);
    job_done(srv);
}

void qk__dispatch_submit(qk_server *srv, qk_conn *c)
{
    pthread_mutex_lock(&srv->jmu);
    srv->jobs_out++;
    if (srv->opt.executor) {
        pthread_mutex_unlock(&srv->jmu);
        srv->opt.executor(run_job, c, srv->opt.executor_opaque);
        return;
    }
    c->jnext = NULL;
    if (srv->jtail)
        srv->jtail->jnext = c;
    else
        srv->jhead = c;
    srv->jtail = c;
    pthread_cond_signal(&srv->jcond);
    if (srv->disp_fd >= 0 && !srv->disp_signalled) {
        uint64_t one = 1;
        srv->disp_signalled = true;
        ssize_t w = write(srv->disp_fd, &one, sizeof(one));
        (void)w;
    }
    pthread_mutex_unlock(&srv->jmu);
}

static qk_conn *pop_locked(qk_server *srv)
{
    qk_conn *c = srv->jhead;
    if (c) {
        srv->jhead = c->jnext;
        if (!srv->jhead)
            srv->jtail = NULL;
        c->jnext = NULL;
    }
    return c;
}

int qk_server_dispatch(qk_server *srv)
{
    if (!srv)
        return QK_ERR_INVAL;
    pthread_mutex_lock(&srv->jmu);
    if (srv->disp_fd >= 0 && srv->disp_signalled) {
        uint64_t v;
        ssize_t r = read(srv->disp_fd, &v, sizeof(v));
        (void)r;
        srv->disp_signalled = false;
    }
    /* only what is queued now: a busy session cannot keep us here */
    qk_conn *last = srv->jtail;
    int n = 0;
    while (last) {
        qk_conn *c = pop_locked(srv);
        pthread_mutex_unlock(&srv->jmu);
        run_job(c);
        n++;
        pthread_mutex_lock(&srv->jmu);
        if (c == last)
            break;
    }
    pthread_mutex_unlock(&srv->jmu);
    return n;
}

int qk_server_dispatch_fd(qk_server *srv)
{
    if (!srv)
        return QK_ERR_INVAL;
    pthread_mutex_lock(&srv->jmu);
    if (srv->disp_fd < 0) {
        srv->disp_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (srv->disp_fd >= 0 && srv->jhead) {
            uint64_t one = 1;
            srv->disp_signalled = true;
            ssize_t w = write(srv->disp_fd, &one, sizeof(one));
            (void)w;
        }
    }
    int fd = srv->disp_fd;
    pthread_mutex_unlock(&srv->jmu);
    return fd < 0 ? QK_ERR_IO : fd;
}

int qk_server_run(qk_server *srv)
{
    if (!srv)
        return QK_ERR_INVAL;
    if (srv->opt.flags & QK_SRV_NO_IO_THREAD)
        return QK_ERR_STATE; /* nobody would read: drive it yourself */
    int rc = qk_server_start(srv);
    if (rc < 0)
        return rc;
    bool spin = false;
    pthread_mutex_lock(&srv->jmu);
    while (!atomic_load(&srv->stopping)) {
        qk_conn *c = pop_locked(srv);
        if (!c && spin) {
            /* A client in a request/reply loop sends its next command
             * a few microseconds after our reply: look for it briefly
             * (yielding the CPU) before paying for a sleep and wake-up. */
            spin = false;
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            do {
                pthread_mutex_unlock(&srv->jmu);
                sched_yield();
                pthread_mutex_lock(&srv->jmu);
                clock_gettime(CLOCK_MONOTONIC, &t1);
            } while (!srv->jhead && !atomic_load(&srv->stopping) &&
                     (t1.tv_sec - t0.tv_sec) * 1000000000L +
                     (t1.tv_nsec - t0.tv_nsec) < srv->opt.poll_ns);
            continue;
        }
        if (!c) {
            /* qk_server_stop() may come from a signal handler, which
             * cannot signal a condition: look again now and then */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&srv->jcond, &srv->jmu, &ts);
            continue;
        }
        pthread_mutex_unlock(&srv->jmu);
        run_job(c);
        spin = srv->opt.poll_ns > 0;
        pthread_mutex_lock(&srv->jmu);
    }
    pthread_mutex_unlock(&srv->jmu);
    return 0;
}

void qk__dispatch_cancel_all(qk_server *srv)
{
    pthread_mutex_lock(&srv->jmu);
    qk_conn *c;
    while ((c = pop_locked(srv))) {
        pthread_mutex_unlock(&srv->jmu);
        run_job(c); /* srv->closing: answers with an error */
        pthread_mutex_lock(&srv->jmu);
    }
    pthread_mutex_unlock(&srv->jmu);
}

void qk__dispatch_wait_idle(qk_server *srv)
{
    pthread_mutex_lock(&srv->jmu);
    while (srv->jobs_out > 0)
        pthread_cond_wait(&srv->icond, &srv->jmu);
    pthread_mutex_unlock(&srv->jmu);
}
