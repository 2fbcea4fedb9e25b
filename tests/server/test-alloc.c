/* SPDX-License-Identifier: MIT */
/*
 * The server under allocation failure: for N = 1, 2, ... the Nth
 * allocation anywhere in qmpkit fails (on whichever thread makes it)
 * while a raw client negotiates with OOB, runs a built-in, an in-band
 * application command, an out-of-band one, an unknown command and
 * receives an event. Each run must end
 * within a few seconds with the whole exchange or with the session closed
 * (a reply may not simply go missing on an open session), and once the
 * server is freed every block must have been returned. The loop ends at
 * the first N where nothing failed and the exchange was whole.
 *
 * The client reads with plain read() so that it allocates nothing of its
 * own through qmpkit.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmpkit/server.h"
#include "server-util.h"

/* ---- a failing allocator that any thread may call ---- */

static atomic_long countdown; /* fail when it reaches 0; -1: never */
static atomic_long live, failed;

static bool refuse(void)
{
    long c = atomic_load(&countdown);
    while (c > 0 && !atomic_compare_exchange_weak(&countdown, &c, c - 1))
        ;
    if (c != 0)
        return false;
    atomic_fetch_add(&failed, 1);
    return true;
}

static void *af_malloc(size_t n)
{
    if (refuse())
        return NULL;
    void *p = malloc(n);
    if (p)
        atomic_fetch_add(&live, 1);
    return p;
}

static void *af_realloc(void *p, size_t n)
{
    if (refuse())
        return NULL;
    return realloc(p, n);
}

static void af_free(void *p)
{
    if (p)
        atomic_fetch_sub(&live, 1);
    free(p);
}

/* ---- the server ---- */

static void cmd_echo(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)errp, (void)op;
    *ret = qk_json_ref(args);
}

static void cmd_ping(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)args, (void)ret, (void)errp, (void)op;
}

static void *disp_main(void *srv)
{
    qk_server_run(srv);
    return NULL;
}

/* Everything the server made is released by qk_server_free(); returns
 * NULL (nothing left over) when a step ran out of memory. */
static qk_server *start(const char *path, pthread_t *disp)
{
    qk_command_table *t = qk_command_table_new();
    if (!t)
        return NULL;
    qk_server_options o = {0};
    o.session.commands = t;
    o.session.flags = QK_SERVER_OOB;
    qk_server *srv = NULL;
    int rc = qk_command_table_add(t, "echo", cmd_echo, 0, NULL);
    if (rc == 0)
        rc = qk_command_table_add(t, "ping", cmd_ping, QK_CMD_ALLOW_OOB, NULL);
    if (rc == 0)
        rc = qk_server_new(&o, &srv);
    qk_command_table_unref(t);
    if (rc == 0)
        rc = qk_server_listen_unix(srv, path, 0);
    if (rc == 0)
        rc = qk_server_start(srv);
    if (rc == 0 && pthread_create(disp, NULL, disp_main, srv) != 0)
        rc = -1;
    if (rc != 0) {
        qk_server_free(srv);
        return NULL;
    }
    return srv;
}

/* ---- the client ---- */

typedef struct exchange {
    char text[8192];
    size_t len;
    int lines;
    bool closed;
} exchange;

/* Reads until `lines` lines in all have arrived or the server closed the
 * session; false when neither happens within the timeout (a hang). */
static bool read_lines(int fd, exchange *x, int lines)
{
    int64_t deadline = su_now_us() + 5 * 1000000;
    while (x->lines < lines && !x->closed) {
        int left = (int)((deadline - su_now_us()) / 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return false;
        ssize_t n = read(fd, x->text + x->len, sizeof x->text - 1 - x->len);
        if (n <= 0) {
            x->closed = true;
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            x->lines += x->text[x->len + (size_t)i] == '\n';
        x->len += (size_t)n;
        x->text[x->len] = 0;
    }
    return true;
}

/* What each line holds; the OOB reply may come before in-band ones, so
 * they are matched in any order. */
static const char *const expected[] = {
    "{\"QMP\": {\"version\": ",
    "{\"return\": {}}",
    "{\"return\": {\"qemu\": ",
    "{\"return\": {\"a\": [1, \"x\"]}}",
    "{\"return\": {}, \"id\": 7}",
    "{\"error\": {\"class\": \"CommandNotFound\"",
    "\"event\": \"ALLOC\"",
};
#define NLINES ((int)(sizeof expected / sizeof expected[0]))

static int closed_runs; /* sessions the server closed for lack of memory */

/* One run; returns 1 when the exchange was whole, 0 when the session
 * (or the server) gave up cleanly. */
static int run(const char *path)
{
    pthread_t disp;
    qk_server *srv = start(path, &disp);
    if (!srv)
        return 0;
    exchange x = {0};
    int fd = su_connect_fd(path);
    bool ok = fd >= 0;
    if (ok) {
        static const char req[] =
            "{\"execute\": \"qmp_capabilities\", "
            "\"arguments\": {\"enable\": [\"oob\"]}}\n"
            "{\"execute\": \"query-version\"}\n"
            "{\"execute\": \"echo\", \"arguments\": {\"a\": [1, \"x\"]}}\n"
            "{\"exec-oob\": \"ping\", \"id\": 7}\n"
            "{\"execute\": \"nope\"}\n";
        ok = send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == sizeof req - 1 ||
             errno == EPIPE || errno == ECONNRESET;
        CHECK(ok);
        CHECK(read_lines(fd, &x, NLINES - 1));
        if (!x.closed) {
            qk_json *e = qk_event_new("ALLOC", NULL, 0);
            int rc = e ? qk_server_broadcast(srv, e) : QK_ERR_NOMEM;
            qk_json_unref(e);
            /* queued for our session (rc 1): it arrives or the session is
             * closed; an event that could not be made is not sent */
            CHECK(read_lines(fd, &x, rc > 0 ? NLINES : NLINES - 1));
        }
        close(fd);
    }
    qk_server_stop(srv);
    pthread_join(disp, NULL);
    qk_server_free(srv);

    if (getenv("QK_TEST_VERBOSE"))
        fprintf(stderr, "%s(%s)\n", x.text, x.closed ? "closed" : "open");
    closed_runs += x.closed;
    if (x.closed || x.lines < NLINES)
        return 0;
    if (atomic_load(&failed)) /* whole, though with an error for what failed */
        return 0;
    /* whole: every line there */
    for (int i = 0; i < NLINES; i++) {
        if (!strstr(x.text, expected[i])) {
            fprintf(stderr, "missing %s in:\n%s", expected[i], x.text);
            exit(1);
        }
    }
    return 1;
}

int main(void)
{
    static const qk_allocator a = {af_malloc, af_realloc, af_free};
    const char *path = su_path("alloc.sock");
    for (long n = 1;; n++) {
        atomic_store(&countdown, n - 1);
        atomic_store(&failed, 0);
        atomic_store(&live, 0);
        qk_set_allocator(&a);
        if (getenv("QK_TEST_VERBOSE"))
            fprintf(stderr, "N=%ld\n", n);
        int whole = run(path);
        qk_set_allocator(NULL);
        if (atomic_load(&live) != 0) {
            fprintf(stderr, "N=%ld: %ld blocks leaked\n", n, atomic_load(&live));
            return 1;
        }
        if (atomic_load(&failed) == 0) {
            if (!whole) {
                fprintf(stderr, "N=%ld: exchange incomplete without a failure\n",
                        n);
                return 1;
            }
            printf("ok: %ld runs, each whole or closed cleanly (%d closed), "
                   "nothing leaked\n", n, closed_runs);
            return 0;
        }
    }
}
