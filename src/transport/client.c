/* SPDX-License-Identifier: MIT */
/*
 * The blocking client (include/qmpkit/client.h): a socket, the engine's
 * client role, and a pump that writes pending output and reads (64 KiB at
 * a time, with poll() for timeouts) until the awaited reply or event has
 * arrived. Replies that come for other requests are kept until asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc-int.h"
#include "qmpkit/client.h"

typedef struct qk_reply {
    int64_t id;
    bool done;
    int status;
    qk_json *ret;
    qk_error *err;
    struct qk_reply *next;
} qk_reply;

struct qk_client {
    qk_client_options opt;
    int fd;
    qk_session *s;
    qk_json *greeting;
    bool ready, failed, io_error;
    qk_reply *replies;
    qk_json **events;
    size_t nev, cev, hev;
    char *rbuf;
};

#define RBUF (64 * 1024)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_event(qk_session *s, qk_json *event, void *opaque)
{
    (void)s;
    qk_client *c = opaque;
    if (c->nev == c->cev) {
        /* compact, then grow */
        if (c->hev) {
            memmove(c->events, c->events + c->hev,
                    (c->nev - c->hev) * sizeof(*c->events));
            c->nev -= c->hev;
            c->hev = 0;
        }
        if (c->nev == c->cev) {
            size_t cap = c->cev ? c->cev * 2 : 16;
            qk_json **p = qk_realloc(c->events, cap * sizeof(*p));
            if (!p)
                return; /* dropped: out of memory */
            c->events = p;
            c->cev = cap;
        }
    }
    c->events[c->nev++] = qk_json_ref(event);
}

static void on_greeting(qk_session *s, qk_json *g, void *opaque)
{
    (void)s;
    qk_client *c = opaque;
    qk_json_unref(c->greeting);
    c->greeting = qk_json_ref(g);
}

static void on_ready(qk_session *s, int status, const qk_error *err,
                     void *opaque)
{
    (void)s;
    (void)err;
    qk_client *c = opaque;
    if (status == 0)
        c->ready = true;
    else
        c->failed = true;
}

static void on_reply(qk_session *s, int status, qk_json *ret,
                     const qk_error *err, void *opaque)
{
    (void)s;
    qk_reply *r = opaque;
    r->done = true;
    r->status = status;
    if (ret)
        r->ret = qk_json_ref(ret);
    if (err) {
        const char *d = qk_error_get_desc(err);
        qk_error_set_str(&r->err, qk_error_get_class(err), d, strlen(d));
    }
}

static int write_all(qk_client *c, int64_t deadline)
{
    for (;;) {
        const void *data;
        size_t len = 0;
        const int *fds = NULL;
        size_t nfds = 0;
        qk_session_output(c->s, &data, &len, &fds, &nfds);
        if (len == 0)
            return 0;
        struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        char cbuf[CMSG_SPACE(sizeof(int) * 16)];
        if (nfds > 0 && nfds <= 16) {
            memset(cbuf, 0, sizeof(cbuf));
            mh.msg_control = cbuf;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
            memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
        }
        ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                c->io_error = true;
                return QK_ERR_IO;
            }
            int left = -1;
            if (deadline) {
                int64_t l = deadline - now_ms();
                if (l <= 0) {
                    errno = ETIMEDOUT;
                    return QK_ERR_IO;
                }
                left = (int)l;
            }
            struct pollfd p = {.fd = c->fd, .events = POLLOUT};
            poll(&p, 1, left);
            continue;
        }
        if (c->opt.trace)
            c->opt.trace(QK_TRACE_SENT, data, (size_t)n, c->opt.opaque);
        qk_session_output_consume(c->s, (size_t)n);
    }
}

/* One round: write what is pending, wait for input until deadline (0:
 * forever, -1: do not wait), read and feed it. */
static int pump(qk_client *c, int64_t deadline)
{
    if (c->io_error)
        return QK_ERR_IO;
    int rc = write_all(c, deadline > 0 ? deadline : 0);
    if (rc < 0)
        return rc;
    int wait = -1;
    if (deadline < 0)
        wait = 0;
    else if (deadline > 0) {
        int64_t l = deadline - now_ms();
        wait = l < 0 ? 0 : (int)l;
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int pr = poll(&p, 1, wait);
    if (pr < 0 && errno != EINTR)
        return QK_ERR_IO;
    if (pr <= 0) {
        if (deadline >= 0 && wait >= 0 && deadline != 0) {
            errno = ETIMEDOUT;
            return QK_ERR_IO;
        }
        return 0;
    }
    ssize_t n = recv(c->fd, c->rbuf, RBUF, MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        c->io_error = true;
        return QK_ERR_IO;
    }
    if (n == 0) {
        c->io_error = true;
        errno = ECONNRESET;
        return QK_ERR_IO;
    }
    if (c->opt.trace)
        c->opt.trace(QK_TRACE_RECEIVED, c->rbuf, (size_t)n, c->opt.opaque);
    size_t off = 0;
    while (off < (size_t)n) {
        size_t used = 0;
        rc = qk_session_feed(c->s, c->rbuf + off, (size_t)n - off, NULL, 0,
                             &used);
        if (rc == QK_ERR_STATE) {
            c->failed = true;
            return rc;
        }
        if (used == 0)
            break;
        off += used;
    }
    return 0;
}

static int64_t deadline_of(qk_client *c)
{
    return c->opt.timeout_ms > 0 ? now_ms() + c->opt.timeout_ms : 0;
}

int qk_client_open_fd(int fd, const qk_client_options *opt, qk_client **out)
{
    *out = NULL;
    qk_client *c = qk_calloc(1, sizeof(*c));
    if (!c || !(c->rbuf = qk_malloc(RBUF))) {
        qk_free(c);
        close(fd);
        return QK_ERR_NOMEM;
    }
    if (opt)
        c->opt = *opt;
    c->fd = fd;
    qk_client_config cfg = {
        .flags = c->opt.flags,
        .on_event = on_event,
        .on_greeting = on_greeting,
        .on_ready = on_ready,
        .opaque = c,
    };
    int rc = qk_session_new_client(&cfg, &c->s);
    if (rc < 0) {
        qk_client_free(c);
        return rc;
    }
    if (c->opt.flags & QK_CLIENT_GUEST_AGENT) {
        rc = qk_session_guest_sync(c->s);
        if (rc < 0) {
            qk_client_free(c);
            return rc;
        }
    }
    int64_t deadline = deadline_of(c);
    while (!c->ready && !c->failed) {
        rc = pump(c, deadline);
        if (rc < 0) {
            qk_client_free(c);
            return rc;
        }
    }
    if (c->failed) {
        qk_client_free(c);
        return QK_ERR_STATE;
    }
    *out = c;
    return 0;
}

int qk_client_connect_unix(const char *path, const qk_client_options *opt,
                           qk_client **out)
{
    *out = NULL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path || strlen(path) >= sizeof(sa.sun_path))
        return QK_ERR_INVAL;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return QK_ERR_IO;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return QK_ERR_IO;
    }
    return qk_client_open_fd(fd, opt, out);
}

int qk_client_connect_tcp(const char *host, unsigned port,
                          const qk_client_options *opt, qk_client **out)
{
    *out = NULL;
    char pstr[16];
    snprintf(pstr, sizeof(pstr), "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host ? host : "127.0.0.1", pstr, &hints, &res) != 0 || !res)
        return QK_ERR_INVAL;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
                    res->ai_protocol);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        errno = e;
        return QK_ERR_IO;
    }
    freeaddrinfo(res);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return qk_client_open_fd(fd, opt, out);
}

void qk_client_free(qk_client *c)
{
    if (!c)
        return;
    qk_session_free(c->s); /* fails what is in flight: replies freed below */
    while (c->replies) {
        qk_reply *r = c->replies;
        c->replies = r->next;
        qk_json_unref(r->ret);
        qk_error_free(r->err);
        qk_free(r);
    }
    for (size_t i = c->hev; i < c->nev; i++)
        qk_json_unref(c->events[i]);
    qk_free(c->events);
    qk_json_unref(c->greeting);
    if (c->fd >= 0)
        close(c->fd);
    qk_free(c->rbuf);
    qk_free(c);
}

qk_json *qk_client_greeting(qk_client *c)
{
    return c ? c->greeting : NULL;
}

int qk_client_fd(qk_client *c)
{
    return c ? c->fd : -1;
}

int qk_client_send(qk_client *c, const char *name, qk_json *args,
                   unsigned flags, const int *fds, size_t nfds, int64_t *id)
{
    if (!c || !name) {
        qk_json_unref(args);
        return QK_ERR_INVAL;
    }
    qk_reply *r = qk_calloc(1, sizeof(*r));
    if (!r) {
        qk_json_unref(args);
        return QK_ERR_NOMEM;
    }
    int dup_fds[16];
    size_t n = 0;
    for (; n < nfds && n < 16; n++) {
        dup_fds[n] = fcntl(fds[n], F_DUPFD_CLOEXEC, 0);
        if (dup_fds[n] < 0) {
            while (n > 0)
                close(dup_fds[--n]);
            qk_free(r);
            qk_json_unref(args);
            return QK_ERR_IO;
        }
    }
    int rc = qk_session_call(c->s, name, args, flags, n ? dup_fds : NULL, n,
                             on_reply, r, &r->id);
    if (rc < 0) {
        qk_free(r);
        return rc;
    }
    r->next = c->replies;
    c->replies = r;
    if (id)
        *id = r->id;
    /* write now, so that a later wait on another id does not delay it */
    rc = write_all(c, deadline_of(c));
    return rc < 0 ? rc : 0;
}

int qk_client_wait(qk_client *c, int64_t id, qk_json **ret, qk_error **err)
{
    if (ret)
        *ret = NULL;
    if (err)
        *err = NULL;
    qk_reply **pp = &c->replies;
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    if (!*pp)
        return QK_ERR_NOENT;
    qk_reply *r = *pp;
    int64_t deadline = deadline_of(c);
    while (!r->done) {
        int rc = pump(c, deadline);
        if (rc < 0)
            return rc;
    }
    /* unlink (the list may have changed while pumping) */
    for (pp = &c->replies; *pp != r; pp = &(*pp)->next)
        ;
    *pp = r->next;
    int rc;
    if (r->status < 0) {
        rc = r->status;
    } else if (r->err) {
        rc = 1;
        if (err) {
            *err = r->err;
            r->err = NULL;
        }
    } else {
        rc = 0;
        if (ret) {
            *ret = r->ret;
            r->ret = NULL;
        }
    }
    qk_json_unref(r->ret);
    qk_error_free(r->err);
    qk_free(r);
    return rc;
}

int qk_client_execute(qk_client *c, const char *name, qk_json *args,
                      unsigned flags, qk_json **ret, qk_error **err)
{
    int64_t id;
    int rc = qk_client_send(c, name, args, flags, NULL, 0, &id);
    if (rc < 0)
        return rc;
    return qk_client_wait(c, id, ret, err);
}

int qk_client_next_event(qk_client *c, int timeout_ms, qk_json **event)
{
    *event = NULL;
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms
                       : timeout_ms == 0 ? -1 : 0;
    for (;;) {
        if (c->hev < c->nev) {
            *event = c->events[c->hev++];
            if (c->hev == c->nev)
                c->hev = c->nev = 0;
            return 0;
        }
        if (deadline > 0 && now_ms() >= deadline)
            return QK_ERR_NOENT;
        int rc = pump(c, deadline);
        if (rc < 0)
            return (errno == ETIMEDOUT && !c->io_error) ? QK_ERR_NOENT : rc;
        if (deadline < 0 && c->hev == c->nev)
            return QK_ERR_NOENT;
    }
}
