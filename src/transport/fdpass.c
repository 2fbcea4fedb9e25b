/* SPDX-License-Identifier: MIT */
/*
 * File descriptors over unix sockets (SCM_RIGHTS): received with the
 * bytes of a read and handed to the engine, which attaches them to the
 * request they came with; a handler claims them with qk_server_take_fd().
 * QEMU's getfd stores one under a name in the session, closefd closes it,
 * and qk_server_take_named_fd() gives it to a command that uses it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server-int.h"

ssize_t qk__recv_fds(int fd, bool is_socket, void *buf, size_t len,
                     int *fds, size_t max, size_t *nfds)
{
    *nfds = 0;
    if (!is_socket)
        return read(fd, buf, len);
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * QK_SRV_MAX_FDS)];
    } cbuf;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b)};
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) {
        if (errno == ENOTSOCK) /* e.g. a pipe given as a connection */
            return read(fd, buf, len);
        return n;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int tmp[QK_SRV_MAX_FDS];
        if (k > QK_SRV_MAX_FDS)
            k = QK_SRV_MAX_FDS;
        memcpy(tmp, CMSG_DATA(c), k * sizeof(int));
        for (size_t i = 0; i < k; i++) {
            if (*nfds < max)
                fds[(*nfds)++] = tmp[i];
            else
                close(tmp[i]);
        }
    }
    return n;
}

ssize_t qk__send_fds(int fd, bool is_socket, const void *buf, size_t len,
                     const int *fds, size_t nfds)
{
    if (!is_socket)
        return write(fd, buf, len);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * QK_SRV_MAX_FDS)];
    } cbuf;
    if (nfds > 0) {
        if (nfds > QK_SRV_MAX_FDS)
            nfds = QK_SRV_MAX_FDS;
        memset(&cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK)
        return write(fd, buf, len);
    return n;
}

void qk__named_fds_free(qk_conn *c)
{
    qk_named_fd *n = c->named;
    c->named = NULL;
    while (n) {
        qk_named_fd *next = n->next;
        close(n->fd);
        qk_free(n->name);
        qk_free(n);
        n = next;
    }
}

qk_server *qk_server_current(void)
{
    return qk__cur.c ? qk__cur.c->srv : NULL;
}

unsigned qk_server_current_session(void)
{
    return qk__cur.c ? qk__cur.c->id : 0;
}

int qk_server_take_fd(void)
{
    return qk__cur.r ? qk_request_take_fd(qk__cur.r) : -1;
}

int qk_server_take_named_fd(const char *name)
{
    qk_conn *c = qk__cur.c;
    if (!c || !name)
        return -1;
    int fd = -1;
    pthread_mutex_lock(&c->fdmu);
    for (qk_named_fd **p = &c->named; *p; p = &(*p)->next) {
        if (strcmp((*p)->name, name) == 0) {
            qk_named_fd *n = *p;
            *p = n->next;
            fd = n->fd;
            qk_free(n->name);
            qk_free(n);
            break;
        }
    }
    pthread_mutex_unlock(&c->fdmu);
    return fd;
}

static const char *fdname_arg(qk_json *args, qk_error **errp)
{
    qk_json *v = qk_json_object_get(args, "fdname");
    if (!v) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "Parameter 'fdname' is missing");
        return NULL;
    }
    if (!qk_json_is_string(v)) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "Invalid parameter type for 'fdname', expected: string");
        return NULL;
    }
    if (qk_json_object_size(args) > 1) {
        for (size_t i = 0; i < qk_json_object_size(args); i++) {
            const char *k = qk_json_object_key_at(args, i, NULL);
            if (strcmp(k, "fdname") != 0) {
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "Parameter '%s' is unexpected", k);
                return NULL;
            }
        }
    }
    return qk_json_string(v);
}

static void cmd_getfd(qk_json *args, qk_json **ret, qk_error **errp,
                      void *opaque)
{
    (void)ret;
    (void)opaque;
    const char *name = fdname_arg(args, errp);
    if (!name)
        return;
    qk_conn *c = qk__cur.c;
    int fd = qk_server_take_fd();
    if (!c || fd < 0) {
        if (fd >= 0)
            close(fd);
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "No file descriptor supplied via SCM_RIGHTS");
        return;
    }
    if (name[0] >= '0' && name[0] <= '9') {
        close(fd);
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "Parameter 'fdname' expects a name not starting with a digit");
        return;
    }
    pthread_mutex_lock(&c->fdmu);
    for (qk_named_fd *n = c->named; n; n = n->next) {
        if (strcmp(n->name, name) == 0) {
            close(n->fd);
            n->fd = fd;
            pthread_mutex_unlock(&c->fdmu);
            return;
        }
    }
    qk_named_fd *n = qk_calloc(1, sizeof(*n));
    if (!n || !(n->name = qk_strdup(name))) {
        pthread_mutex_unlock(&c->fdmu);
        qk_free(n);
        close(fd);
        qk_error_setg(errp, QK_ERROR_GENERIC, "Out of memory");
        return;
    }
    n->fd = fd;
    n->next = c->named;
    c->named = n;
    pthread_mutex_unlock(&c->fdmu);
}

static void cmd_closefd(qk_json *args, qk_json **ret, qk_error **errp,
                        void *opaque)
{
    (void)ret;
    (void)opaque;
    const char *name = fdname_arg(args, errp);
    if (!name)
        return;
    int fd = qk_server_take_named_fd(name);
    if (fd < 0) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "File descriptor named '%s' not found", name);
        return;
    }
    close(fd);
}

int qk_server_add_fd_commands(qk_command_table *t)
{
    int rc = qk_command_table_add(t, "getfd", cmd_getfd, 0, NULL);
    if (rc < 0)
        return rc;
    return qk_command_table_add(t, "closefd", cmd_closefd, 0, NULL);
}
