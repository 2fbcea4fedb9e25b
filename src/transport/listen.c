/* SPDX-License-Identifier: MIT */
/*
 * Listening sockets: unix (mode set between bind and listen, so no client
 * can connect before it applies), TCP (loopback unless told otherwise),
 * adopted descriptors and systemd socket activation (sd_listen_fds'
 * protocol: LISTEN_PID, LISTEN_FDS, descriptors from 3). Accepting is
 * bounded per round; sessions over the limit are closed at once and
 * logged; when descriptors run out, listeners pause for 100 ms instead
 * of spinning.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server-int.h"

static int add_listener(qk_server *srv, int fd, const char *unlink_path)
{
    qk_listener *l = qk_calloc(1, sizeof(*l));
    if (!l) {
        close(fd);
        return QK_ERR_NOMEM;
    }
    l->h.kind = QK_H_LISTENER;
    l->fd = fd;
    if (unlink_path && !(l->unlink_path = qk_strdup(unlink_path))) {
        close(fd);
        qk_free(l);
        return QK_ERR_NOMEM;
    }
    if (qk__epoll_add(srv, fd, EPOLLIN, &l->h) < 0) {
        close(fd);
        qk_free(l->unlink_path);
        qk_free(l);
        return QK_ERR_IO;
    }
    pthread_mutex_lock(&srv->mu);
    l->next = srv->listeners;
    srv->listeners = l;
    pthread_mutex_unlock(&srv->mu);
    return 0;
}

int qk_server_listen_unix(qk_server *srv, const char *path, mode_t mode)
{
    if (!srv || !path)
        return QK_ERR_INVAL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(sa.sun_path))
        return QK_ERR_INVAL;
    memcpy(sa.sun_path, path, len + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return QK_ERR_IO;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto fail;
    /* no connection is possible before listen(): no window */
    if (chmod(path, mode ? mode : 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        unlink(path);
        errno = e;
        goto fail;
    }
    qk__srv_log(srv, QK_SRV_LOG_INFO, "listening on unix:%s", path);
    return add_listener(srv, fd, path);
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return QK_ERR_IO;
}

int qk_server_listen_tcp(qk_server *srv, const char *host, unsigned port,
                         unsigned *bound_port)
{
    if (!srv || port > 65535)
        return QK_ERR_INVAL;
    char pstr[16];
    snprintf(pstr, sizeof(pstr), "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host ? host : "127.0.0.1", pstr, &hints, &res) != 0 || !res)
        return QK_ERR_INVAL;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
                    SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) {
        freeaddrinfo(res);
        return QK_ERR_IO;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
        listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        freeaddrinfo(res);
        close(fd);
        errno = e;
        return QK_ERR_IO;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    unsigned got = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            got = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            got = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    if (bound_port)
        *bound_port = got;
    qk__srv_log(srv, QK_SRV_LOG_INFO, "listening on tcp:%s:%u",
                host ? host : "127.0.0.1", got);
    return add_listener(srv, fd, NULL);
}

int qk_server_listen_fd(qk_server *srv, int fd)
{
    if (!srv || fd < 0) {
        if (fd >= 0)
            close(fd);
        return QK_ERR_INVAL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        close(fd);
        return QK_ERR_IO;
    }
    return add_listener(srv, fd, NULL);
}

int qk_server_listen_systemd(qk_server *srv)
{
    if (!srv)
        return QK_ERR_INVAL;
    const char *pid = getenv("LISTEN_PID");
    const char *nfds = getenv("LISTEN_FDS");
    if (!pid || !nfds || strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    long n = strtol(nfds, NULL, 10);
    if (n <= 0 || n > 1024)
        return 0;
    for (long i = 0; i < n; i++) {
        int rc = qk_server_listen_fd(srv, 3 + (int)i);
        if (rc < 0)
            return rc;
    }
    return (int)n;
}

static void pause_listeners(qk_server *srv, bool pause)
{
    pthread_mutex_lock(&srv->mu);
    for (qk_listener *l = srv->listeners; l; l = l->next) {
        struct epoll_event ev = {.events = pause ? 0 : EPOLLIN,
                                 .data.ptr = &l->h};
        epoll_ctl(srv->epfd, EPOLL_CTL_MOD, l->fd, &ev);
        l->paused = pause;
    }
    pthread_mutex_unlock(&srv->mu);
}

void qk__listeners_resume(qk_server *srv)
{
    srv->accept_retry_ms = 0;
    pause_listeners(srv, false);
}

void qk__listener_accept(qk_server *srv, qk_listener *l)
{
    for (int i = 0; i < 64 && !atomic_load(&srv->closing); i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                qk__srv_log(srv, QK_SRV_LOG_WARNING,
                            "accept: %s; pausing for 100 ms", strerror(errno));
                srv->accept_retry_ms = qk__now_ms() + 100;
                pause_listeners(srv, true);
            }
            return;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
            (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        qk_conn *c;
        int rc = qk__conn_new(srv, fd, fd, true, &c);
        if (rc == QK_ERR_LIMIT) {
            qk__srv_log(srv, QK_SRV_LOG_WARNING,
                        "session limit (%zu) reached: connection refused",
                        srv->opt.max_sessions);
            close(fd);
        } else if (rc < 0) {
            qk__srv_log(srv, QK_SRV_LOG_ERROR, "connection refused: %s",
                        qk_strerror(rc));
            close(fd);
        }
    }
}

void qk__listeners_free(qk_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    qk_listener *l = srv->listeners;
    srv->listeners = NULL;
    pthread_mutex_unlock(&srv->mu);
    while (l) {
        qk_listener *next = l->next;
        epoll_ctl(srv->epfd, EPOLL_CTL_DEL, l->fd, NULL);
        close(l->fd);
        if (l->unlink_path)
            unlink(l->unlink_path);
        qk_free(l->unlink_path);
        qk_free(l);
        l = next;
    }
}
