/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the server tests: a temporary directory, a raw client
 * (socket + streaming parser, so tests see exactly what the server sent),
 * bounded waits, and a descriptor count for leak checks.
 */
#ifndef QK_SERVER_UTIL_H
#define QK_SERVER_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmpkit/json.h"

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

static inline int64_t su_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char su_dir[256];

static inline void su_rmdir(void)
{
    if (!su_dir[0])
        return;
    DIR *d = opendir(su_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", su_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(su_dir);
}

/* A fresh temporary directory (removed at exit); returns dir/name. */
static inline const char *su_path(const char *name)
{
    static char p[512];
    if (!su_dir[0]) {
        snprintf(su_dir, sizeof su_dir, "/tmp/qk-server-XXXXXX");
        CHECK(mkdtemp(su_dir));
        atexit(su_rmdir);
    }
    snprintf(p, sizeof p, "%s/%s", su_dir, name);
    return p;
}

static inline int su_count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

typedef struct su_raw {
    int fd;
    qk_json_parser *p;
    char buf[65536];
    size_t off, len;
} su_raw;

static inline void su_sun(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    CHECK(strlen(path) < sizeof sa->sun_path);
    memcpy(sa->sun_path, path, strlen(path) + 1);
}

static inline int su_connect_fd(const char *path)
{
    struct sockaddr_un sa;
    su_sun(&sa, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline su_raw *su_raw_open_fd(int fd)
{
    su_raw *r = calloc(1, sizeof(*r));
    CHECK(r);
    r->fd = fd;
    r->p = qk_json_parser_new(NULL);
    CHECK(r->p);
    return r;
}

static inline su_raw *su_raw_connect(const char *path)
{
    int fd = su_connect_fd(path);
    CHECK(fd >= 0);
    return su_raw_open_fd(fd);
}

static inline void su_raw_close(su_raw *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    qk_json_parser_free(r->p);
    free(r);
}

static inline void su_raw_send(su_raw *r, const char *text)
{
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = send(r->fd, text + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(r->fd, text + off, len - off);
        CHECK(n > 0);
        off += (size_t)n;
    }
}

static inline void su_raw_sendf(su_raw *r, const char *fmt, ...)
    QK_PRINTF(2, 3);
static inline void su_raw_sendf(su_raw *r, const char *fmt, ...)
{
    char b[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    su_raw_send(r, b);
}

/* The next message within timeout_ms (NULL on timeout or end of stream;
 * *eof set on end of stream if eof is not NULL). */
static inline qk_json *su_raw_recv_eof(su_raw *r, int timeout_ms, bool *eof)
{
    int64_t deadline = su_now_us() + (int64_t)timeout_ms * 1000;
    if (eof)
        *eof = false;
    for (;;) {
        while (r->off < r->len) {
            size_t used = 0;
            qk_json *v = NULL;
            qk_json_error err;
            int st = qk_json_parser_feed(r->p, r->buf + r->off,
                                         r->len - r->off, &used, &v, &err);
            r->off += used;
            if (st == QK_JSON_VALUE)
                return v;
            if (st == QK_JSON_ERROR)
                return qk_json_string_new("parse error");
        }
        int left = (int)((deadline - su_now_us()) / 1000);
        if (left < 0)
            return NULL;
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            return NULL;
        ssize_t n = read(r->fd, r->buf, sizeof r->buf);
        if (n <= 0) {
            if (eof)
                *eof = true;
            return NULL;
        }
        r->off = 0;
        r->len = (size_t)n;
    }
}

static inline qk_json *su_raw_recv(su_raw *r, int timeout_ms)
{
    return su_raw_recv_eof(r, timeout_ms, NULL);
}

/* Reads the greeting and negotiates (with oob when asked). */
static inline void su_raw_negotiate(su_raw *r, bool oob)
{
    qk_json *g = su_raw_recv(r, 5000);
    CHECK(g && qk_json_object_get(g, "QMP"));
    qk_json_unref(g);
    su_raw_send(r, oob ? "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                         "{\"enable\": [\"oob\"]}}"
                       : "{\"execute\": \"qmp_capabilities\"}");
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(v && qk_json_object_get(v, "return"));
    qk_json_unref(v);
}

/* The text of a message (static buffer), for messages and comparisons. */
static inline const char *su_text(const qk_json *v)
{
    static char b[8192];
    if (!v)
        return "(none)";
    if (qk_json_write_fixed(v, 0, b, sizeof b, NULL) < 0)
        snprintf(b + sizeof b - 5, 5, "...");
    return b;
}

/* Whether v is {"return": ...} (with the given id when id is not NULL). */
static inline bool su_is_return(const qk_json *v, const char *id)
{
    if (!v || !qk_json_object_get(v, "return"))
        return false;
    if (!id)
        return true;
    qk_json *i = qk_json_object_get(v, "id");
    return i && qk_json_is_string(i) && strcmp(qk_json_string(i), id) == 0;
}

static inline const char *su_event_name(const qk_json *v)
{
    qk_json *e = v ? qk_json_object_get(v, "event") : NULL;
    return e && qk_json_is_string(e) ? qk_json_string(e) : NULL;
}

#endif /* QK_SERVER_UTIL_H */
