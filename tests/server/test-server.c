/* SPDX-License-Identifier: MIT */
/*
 * qk_server over real unix sockets, in one process: the server with its
 * I/O thread and a dispatcher thread, clients as raw sockets that see the
 * exact bytes. Each case is its own meson test (argv[1]); every wait is
 * bounded. Run under ASan and TSan too (make check).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/resource.h>

#include "qmpkit/client.h"
#include "qmpkit/server.h"
#include "server-util.h"

/* ---- the test server ---- */

static void cmd_ping(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)args, (void)ret, (void)errp, (void)op;
}

static void cmd_sleep(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)ret, (void)errp, (void)op;
    int64_t ms = 0;
    qk_json *v = qk_json_object_get(args, "ms");
    if (v)
        qk_json_get_int64(v, &ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void cmd_echo(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)errp, (void)op;
    *ret = qk_json_ref(args);
}

static void cmd_emit(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)args, (void)ret, (void)errp, (void)op;
    qk_server_emit(qk_server_current(), "EMITTED", NULL);
}

/* writes "fd-ok" into the descriptor it was given */
static void cmd_usefd(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)args, (void)op;
    int fd = qk_server_take_fd();
    if (fd < 0) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "no fd");
        return;
    }
    ssize_t n = write(fd, "fd-ok", 5);
    close(fd);
    *ret = qk_json_pack("{s:i}", "written", (int)n);
}

static void cmd_usenamed(qk_json *args, qk_json **ret, qk_error **errp,
                         void *op)
{
    (void)op;
    qk_json *name = qk_json_object_get(args, "fdname");
    int fd = name ? qk_server_take_named_fd(qk_json_string(name)) : -1;
    if (fd < 0) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "no such fd");
        return;
    }
    ssize_t n = write(fd, "named", 5);
    close(fd);
    *ret = qk_json_pack("{s:i}", "written", (int)n);
}

static atomic_int closes;
static char last_log[256];
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int limit_logs;
static atomic_int refused_logs;

static void logger(int level, const char *msg, void *opaque)
{
    (void)level, (void)opaque;
    pthread_mutex_lock(&log_mu);
    snprintf(last_log, sizeof last_log, "%s", msg);
    if (strstr(msg, "output limit"))
        atomic_fetch_add(&limit_logs, 1);
    if (strstr(msg, "session limit"))
        atomic_fetch_add(&refused_logs, 1);
    pthread_mutex_unlock(&log_mu);
    if (getenv("QK_TEST_VERBOSE"))
        fprintf(stderr, "log: %s\n", msg);
}

static void on_close(qk_server *srv, unsigned id, const char *why, void *op)
{
    (void)srv, (void)id, (void)why, (void)op;
    atomic_fetch_add(&closes, 1);
}

typedef struct ts {
    qk_server *srv;
    pthread_t disp;
    const char *path;
} ts;

static void *disp_main(void *arg)
{
    qk_server_run(arg);
    return NULL;
}

static qk_command_table *test_table(void)
{
    qk_command_table *t = qk_command_table_new();
    CHECK(t);
    CHECK(qk_command_table_add(t, "ping", cmd_ping, QK_CMD_ALLOW_OOB, NULL) == 0);
    CHECK(qk_command_table_add(t, "sleep", cmd_sleep, 0, NULL) == 0);
    CHECK(qk_command_table_add(t, "sleep-oob", cmd_sleep, QK_CMD_ALLOW_OOB, NULL) == 0);
    CHECK(qk_command_table_add(t, "echo", cmd_echo, 0, NULL) == 0);
    CHECK(qk_command_table_add(t, "emit", cmd_emit, 0, NULL) == 0);
    CHECK(qk_command_table_add(t, "usefd", cmd_usefd, 0, NULL) == 0);
    CHECK(qk_command_table_add(t, "usenamed", cmd_usenamed, 0, NULL) == 0);
    CHECK(qk_server_add_fd_commands(t) == 0);
    return t;
}

static void ts_start_opts(ts *t, qk_server_options *o)
{
    qk_command_table *tab = test_table();
    o->session.commands = tab;
    o->session.flags |= QK_SERVER_OOB;
    o->log = logger;
    o->on_close = on_close;
    CHECK(qk_server_new(o, &t->srv) == 0);
    qk_command_table_unref(tab);
    t->path = strdup(su_path("qmp.sock"));
    CHECK(qk_server_listen_unix(t->srv, t->path, 0) == 0);
    CHECK(qk_server_start(t->srv) == 0);
    CHECK(pthread_create(&t->disp, NULL, disp_main, t->srv) == 0);
}

static void ts_start(ts *t)
{
    qk_server_options o = {0};
    ts_start_opts(t, &o);
}

static void ts_stop(ts *t)
{
    qk_server_stop(t->srv);
    pthread_join(t->disp, NULL);
    qk_server_free(t->srv);
    free((void *)t->path);
    t->srv = NULL;
}

static void wait_sessions(qk_server *srv, size_t n)
{
    for (int i = 0; i < 500 && qk_server_session_count(srv) != n; i++)
        usleep(10000);
    CHECK(qk_server_session_count(srv) == n);
}

/* ---- cases ---- */

static void test_basic(void)
{
    ts t;
    ts_start(&t);
    struct stat st;
    CHECK(stat(t.path, &st) == 0 && (st.st_mode & 0777) == 0600);
    su_raw *r = su_raw_connect(t.path);
    qk_json *g = su_raw_recv(r, 5000);
    CHECK(g);
    qk_json *caps = qk_json_object_get(qk_json_object_get(g, "QMP"),
                                       "capabilities");
    CHECK(caps && qk_json_array_size(caps) == 1);
    qk_json_unref(g);
    /* before negotiation */
    su_raw_send(r, "{\"execute\": \"ping\"}");
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(v && qk_json_object_get(v, "error"));
    qk_json_unref(v);
    su_raw_send(r, "{\"execute\": \"qmp_capabilities\"}");
    v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    su_raw_send(r, "{\"execute\": \"echo\", \"arguments\": {\"a\": [1, 2]}, "
                   "\"id\": \"e1\"}");
    v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, "e1"));
    CHECK(strcmp(su_text(v), "{\"return\": {\"a\": [1, 2]}, \"id\": \"e1\"}") == 0);
    qk_json_unref(v);
    /* pipelined: many in one write, replies in order */
    char big[8192] = "";
    for (int i = 0; i < 50; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big),
                 "{\"execute\": \"echo\", \"id\": \"p%d\"}", i);
    su_raw_send(r, big);
    for (int i = 0; i < 50; i++) {
        char id[16];
        snprintf(id, sizeof id, "p%d", i);
        v = su_raw_recv(r, 5000);
        CHECK(su_is_return(v, id));
        qk_json_unref(v);
    }
    su_raw_close(r);
    wait_sessions(t.srv, 0);
    ts_stop(&t);
}

static void test_oob(void)
{
    ts t;
    ts_start(&t);
    su_raw *r = su_raw_connect(t.path);
    su_raw_negotiate(r, true);
    su_raw_send(r, "{\"execute\": \"sleep\", \"arguments\": {\"ms\": 1000}, "
                   "\"id\": \"s\"}");
    usleep(50000); /* the sleep is running */
    int64_t dts[5];
    for (int i = 0; i < 5; i++) {
        int64_t t0 = su_now_us();
        su_raw_sendf(r, "{\"exec-oob\": \"ping\", \"id\": \"o%d\"}", i);
        qk_json *v = su_raw_recv(r, 2000);
        dts[i] = su_now_us() - t0;
        char id[8];
        snprintf(id, sizeof id, "o%d", i);
        CHECK(su_is_return(v, id));
        qk_json_unref(v);
    }
    /* sorted: the median must be under 10 ms, and even the worst far
     * from the second the sleep takes (the machine may be loaded) */
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            if (dts[j] < dts[i]) {
                int64_t x = dts[i];
                dts[i] = dts[j];
                dts[j] = x;
            }
    printf("oob ping while sleep 1000 runs: median %.3f ms, worst %.3f ms\n",
           dts[2] / 1000.0, dts[4] / 1000.0);
    CHECK(dts[2] < 10000);
    CHECK(dts[4] < 200000);
    qk_json *v = su_raw_recv(r, 3000);
    CHECK(su_is_return(v, "s"));
    qk_json_unref(v);
    su_raw_close(r);
    ts_stop(&t);
}

static void test_events(void)
{
    ts t;
    ts_start(&t);
    su_raw *a = su_raw_connect(t.path), *b = su_raw_connect(t.path);
    su_raw *c = su_raw_connect(t.path); /* never negotiates */
    su_raw_negotiate(a, false);
    su_raw_negotiate(b, true);
    qk_json *g = su_raw_recv(c, 5000);
    CHECK(g);
    qk_json_unref(g);
    wait_sessions(t.srv, 3);
    CHECK(qk_server_emit(t.srv, "HELLO", qk_json_pack("{s:i}", "n", 1)) == 2);
    /* from a handler on the dispatcher thread, too */
    su_raw_send(a, "{\"execute\": \"emit\", \"id\": 1}");
    int seen_a = 0, seen_b = 0;
    for (int i = 0; i < 3; i++) {
        qk_json *v = su_raw_recv(a, 5000);
        CHECK(v);
        if (su_event_name(v)) {
            seen_a++;
            CHECK(qk_json_object_get(v, "timestamp"));
        }
        qk_json_unref(v);
    }
    for (int i = 0; i < 2; i++) {
        qk_json *v = su_raw_recv(b, 5000);
        CHECK(su_event_name(v));
        seen_b++;
        qk_json_unref(v);
    }
    CHECK(seen_a == 2 && seen_b == 2);
    /* nothing reached the session that has not negotiated */
    qk_json *v = su_raw_recv(c, 200);
    CHECK(v == NULL);
    su_raw_send(c, "{\"execute\": \"qmp_capabilities\"}");
    v = su_raw_recv(c, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    CHECK(qk_server_emit(t.srv, "LATER", NULL) == 3);
    v = su_raw_recv(c, 5000);
    CHECK(su_event_name(v) && strcmp(su_event_name(v), "LATER") == 0);
    qk_json_unref(v);
    su_raw_close(a);
    su_raw_close(b);
    su_raw_close(c);
    ts_stop(&t);
}

static void test_many(void)
{
    enum { N = 1000 };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * N + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < 2 * N + 64) {
            printf("SKIP: descriptor limit %ld too low\n", (long)rl.rlim_cur);
            exit(77);
        }
    }
    ts t;
    ts_start(&t);
    int64_t t0 = su_now_us();
    static su_raw *c[N];
    for (int i = 0; i < N; i++)
        c[i] = su_raw_connect(t.path);
    for (int i = 0; i < N; i++) {
        qk_json *g = su_raw_recv(c[i], 10000);
        CHECK(g);
        qk_json_unref(g);
        su_raw_send(c[i], "{\"execute\": \"qmp_capabilities\"}");
    }
    wait_sessions(t.srv, N);
    for (int i = 0; i < N; i++) {
        qk_json *v = su_raw_recv(c[i], 10000);
        CHECK(su_is_return(v, NULL));
        qk_json_unref(v);
        su_raw_sendf(c[i], "{\"execute\": \"echo\", \"arguments\": {\"i\": %d},"
                     " \"id\": %d}", i, i);
    }
    CHECK(qk_server_emit(t.srv, "ALL", NULL) == N);
    for (int i = 0; i < N; i++) {
        bool got_reply = false, got_event = false;
        for (int k = 0; k < 2; k++) {
            qk_json *v = su_raw_recv(c[i], 10000);
            CHECK(v);
            if (su_event_name(v))
                got_event = true;
            else {
                qk_json *ret = qk_json_object_get(v, "return");
                int64_t x = -1;
                qk_json_get_int64(qk_json_object_get(ret, "i"), &x);
                CHECK(x == i);
                got_reply = true;
            }
            qk_json_unref(v);
        }
        CHECK(got_reply && got_event);
    }
    printf("%d concurrent clients served in %.0f ms\n", N,
           (su_now_us() - t0) / 1000.0);
    for (int i = 0; i < N; i++)
        su_raw_close(c[i]);
    wait_sessions(t.srv, 0);
    ts_stop(&t);
}

static void test_disconnect(void)
{
    int fds0 = su_count_fds();
    ts t;
    ts_start(&t);
    for (int round = 0; round < 5; round++) {
        su_raw *r = su_raw_connect(t.path);
        su_raw_negotiate(r, true);
        su_raw_send(r, "{\"execute\": \"sleep\", \"arguments\": {\"ms\": 100}, "
                       "\"id\": 1}{\"execute\": \"echo\", \"id\": 2}"
                       "{\"exec-oob\": \"sleep-oob\", \"arguments\": {\"ms\": 20}}");
        usleep(round * 10000);
        su_raw_close(r); /* in the middle of the command */
    }
    /* a half-written request, then gone */
    su_raw *r = su_raw_connect(t.path);
    su_raw_negotiate(r, false);
    su_raw_send(r, "{\"execute\": \"echo\", \"argu");
    su_raw_close(r);
    /* others are still served */
    su_raw *ok = su_raw_connect(t.path);
    su_raw_negotiate(ok, false);
    su_raw_send(ok, "{\"execute\": \"echo\", \"id\": \"x\"}");
    qk_json *v = su_raw_recv(ok, 5000);
    CHECK(su_is_return(v, "x"));
    qk_json_unref(v);
    su_raw_close(ok);
    wait_sessions(t.srv, 0);
    usleep(200000); /* the sleeps finish for nobody */
    ts_stop(&t);
    CHECK(su_count_fds() == fds0);
}

static void test_noread(void)
{
    ts t;
    qk_server_options o = {0};
    o.max_output = 256 * 1024;
    o.pause_output = 64 * 1024;
    ts_start_opts(&t, &o);

    /* 1: a client that floods requests and never reads stops being read;
     * its replies are kept, not dropped, and come when it reads */
    su_raw *flood = su_raw_connect(t.path);
    su_raw_negotiate(flood, false);
    int fl = fcntl(flood->fd, F_GETFL);
    fcntl(flood->fd, F_SETFL, fl | O_NONBLOCK);
    char req[600];
    snprintf(req, sizeof req, "{\"execute\": \"echo\", \"arguments\": "
             "{\"pad\": \"%0500d\"}}", 0);
    size_t sent = 0, len = strlen(req), partial = 0;
    int64_t t0 = su_now_us();
    int stuck = 0;
    while (su_now_us() - t0 < 5000000 && stuck < 50) {
        ssize_t n = send(flood->fd, req + partial, len - partial, MSG_NOSIGNAL);
        if (n < 0) {
            CHECK(errno == EAGAIN);
            stuck++;
            usleep(2000);
            continue;
        }
        stuck = 0;
        partial += (size_t)n;
        if (partial == len) {
            partial = 0;
            sent++;
        }
    }
    CHECK(stuck >= 50); /* backpressure reached the client */
    printf("flooding client blocked after %zu requests\n", sent);
    /* another client is served meanwhile, quickly */
    su_raw *other = su_raw_connect(t.path);
    su_raw_negotiate(other, false);
    int64_t t1 = su_now_us();
    su_raw_send(other, "{\"execute\": \"echo\", \"id\": \"fast\"}");
    qk_json *v = su_raw_recv(other, 5000);
    CHECK(su_is_return(v, "fast"));
    qk_json_unref(v);
    CHECK(su_now_us() - t1 < 1000000);
    CHECK(qk_server_session_count(t.srv) == 2);
    /* the flooder reads now: every complete request is answered */
    fcntl(flood->fd, F_SETFL, fl);
    if (partial) {
        /* finish the request in progress */
        size_t off = partial;
        while (off < len) {
            ssize_t n = send(flood->fd, req + off, len - off, MSG_NOSIGNAL);
            if (n > 0)
                off += (size_t)n;
        }
        sent++;
    }
    for (size_t i = 0; i < sent; i++) {
        v = su_raw_recv(flood, 5000);
        CHECK(su_is_return(v, NULL));
        qk_json_unref(v);
    }
    su_raw_close(flood);

    /* 2: a client that never reads while events keep coming is closed
     * with a logged reason; the others go on */
    su_raw *deaf = su_raw_connect(t.path);
    su_raw_negotiate(deaf, false);
    wait_sessions(t.srv, 2);
    int before = atomic_load(&closes);
    for (int i = 0; i < 5000 && atomic_load(&limit_logs) == 0; i++) {
        for (int k = 0; k < 16; k++)
            CHECK(qk_server_emit(t.srv, "SPAM", qk_json_pack("{s:s}", "pad",
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))
                  >= 1);
        /* the other client reads its copies */
        for (int k = 0; k < 16; k++) {
            v = su_raw_recv(other, 5000);
            CHECK(su_event_name(v));
            qk_json_unref(v);
        }
    }
    CHECK(atomic_load(&limit_logs) >= 1);
    for (int i = 0; i < 200 && atomic_load(&closes) == before; i++)
        usleep(10000);
    CHECK(atomic_load(&closes) > before);
    pthread_mutex_lock(&log_mu);
    printf("log: %s\n", last_log);
    pthread_mutex_unlock(&log_mu);
    /* other still works */
    while ((v = su_raw_recv(other, 100)))
        qk_json_unref(v);
    su_raw_send(other, "{\"execute\": \"echo\", \"id\": \"still\"}");
    for (;;) {
        v = su_raw_recv(other, 5000);
        CHECK(v);
        bool done = su_is_return(v, "still");
        qk_json_unref(v);
        if (done)
            break;
    }
    su_raw_close(deaf);
    su_raw_close(other);
    ts_stop(&t);
}

static void test_shutdown(void)
{
    int fds0 = su_count_fds();
    ts t;
    ts_start(&t);
    su_raw *r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = su_raw_connect(t.path);
        su_raw_negotiate(r[i], true);
    }
    su_raw_send(r[0], "{\"execute\": \"sleep\", \"arguments\": {\"ms\": 300}, "
                      "\"id\": \"s\"}{\"execute\": \"echo\", \"id\": \"q1\"}");
    su_raw_send(r[1], "{\"execute\": \"sleep\", \"arguments\": {\"ms\": 300}, "
                      "\"id\": \"t\"}");
    usleep(50000);
    int64_t t0 = su_now_us();
    ts_stop(&t); /* run() returns after the current job; free waits */
    int64_t dt = su_now_us() - t0;
    printf("shutdown with commands in flight took %.0f ms\n", dt / 1000.0);
    CHECK(dt < 3000000);
    /* the running sleep finished and was answered; the session closed */
    bool eof = false;
    int replies = 0;
    for (;;) {
        qk_json *v = su_raw_recv_eof(r[0], 2000, &eof);
        if (!v)
            break;
        if (qk_json_object_get(v, "return") || qk_json_object_get(v, "error"))
            replies++;
        qk_json_unref(v);
    }
    CHECK(eof);
    CHECK(replies >= 1);
    for (int i = 1; i < 4; i++) {
        qk_json *v;
        while ((v = su_raw_recv_eof(r[i], 2000, &eof)))
            qk_json_unref(v);
        CHECK(eof);
    }
    for (int i = 0; i < 4; i++)
        su_raw_close(r[i]);
    CHECK(access(su_path("qmp.sock"), F_OK) != 0); /* socket file removed */
    CHECK(su_count_fds() == fds0);
}

static void test_fds(void)
{
    ts t;
    ts_start(&t);
    su_raw *r = su_raw_connect(t.path);
    su_raw_negotiate(r, false);
    int p[2];
    CHECK(pipe(p) == 0);
    /* usefd: the fd travels with the request */
    const char *req = "{\"execute\": \"usefd\", \"id\": 1}";
    struct iovec iov = {.iov_base = (void *)req, .iov_len = strlen(req)};
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
    CHECK(sendmsg(r->fd, &mh, 0) == (ssize_t)strlen(req));
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    char buf[16] = "";
    CHECK(read(p[0], buf, 5) == 5 && memcmp(buf, "fd-ok", 5) == 0);

    /* getfd without a descriptor: QEMU's error */
    su_raw_send(r, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}");
    v = su_raw_recv(r, 5000);
    CHECK(strcmp(su_text(v), "{\"error\": {\"class\": \"GenericError\", "
                 "\"desc\": \"No file descriptor supplied via SCM_RIGHTS\"}}") == 0);
    qk_json_unref(v);
    /* getfd with one, then use it by name */
    req = "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"mine\"}}";
    iov.iov_base = (void *)req;
    iov.iov_len = strlen(req);
    CHECK(sendmsg(r->fd, &mh, 0) == (ssize_t)strlen(req));
    v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    su_raw_send(r, "{\"execute\": \"usenamed\", \"arguments\": {\"fdname\": \"mine\"}}");
    v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    CHECK(read(p[0], buf, 5) == 5 && memcmp(buf, "named", 5) == 0);
    /* getfd then closefd, closefd twice */
    CHECK(sendmsg(r->fd, &mh, 0) == (ssize_t)strlen(req));
    v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    su_raw_send(r, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"mine\"}}");
    v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    su_raw_send(r, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"mine\"}}");
    v = su_raw_recv(r, 5000);
    CHECK(strcmp(su_text(v), "{\"error\": {\"class\": \"GenericError\", "
                 "\"desc\": \"File descriptor named 'mine' not found\"}}") == 0);
    qk_json_unref(v);
    close(p[1]);
    /* every server copy of the write end is closed: EOF */
    su_raw_close(r);
    wait_sessions(t.srv, 0);
    CHECK(read(p[0], buf, 1) == 0);
    close(p[0]);
    ts_stop(&t);
}

/* The blocking client against the server: execute, errors, events, OOB. */
static void test_client(void)
{
    ts t;
    ts_start(&t);
    qk_client_options co = {.flags = QK_CLIENT_WANT_OOB, .timeout_ms = 5000};
    qk_client *c;
    CHECK(qk_client_connect_unix(t.path, &co, &c) == 0);
    CHECK(qk_client_greeting(c));
    qk_json *ret = NULL;
    qk_error *err = NULL;
    CHECK(qk_client_execute(c, "echo", qk_json_pack("{s:i}", "x", 5), 0, &ret,
                            &err) == 0);
    CHECK(strcmp(su_text(ret), "{\"x\": 5}") == 0);
    qk_json_unref(ret);
    CHECK(qk_client_execute(c, "nope", NULL, 0, &ret, &err) == 1);
    CHECK(err && qk_error_get_class(err) == QK_ERROR_COMMAND_NOT_FOUND);
    qk_error_free(err);
    int64_t sid;
    CHECK(qk_client_send(c, "sleep", qk_json_pack("{s:i}", "ms", 300), 0,
                         NULL, 0, &sid) == 0);
    int64_t t0 = su_now_us();
    CHECK(qk_client_execute(c, "ping", NULL, QK_CALL_OOB, &ret, &err) == 0);
    CHECK(su_now_us() - t0 < 100000);
    qk_json_unref(ret);
    CHECK(qk_client_wait(c, sid, NULL, NULL) == 0);
    CHECK(qk_client_execute(c, "emit", NULL, 0, NULL, NULL) == 0);
    qk_json *ev;
    CHECK(qk_client_next_event(c, 2000, &ev) == 0);
    CHECK(strcmp(su_event_name(ev), "EMITTED") == 0);
    qk_json_unref(ev);
    CHECK(qk_client_next_event(c, 0, &ev) == QK_ERR_NOENT);
    qk_client_free(c);
    ts_stop(&t);
}

/* No I/O thread: the application's own poll loop drives everything. */
typedef struct emb {
    qk_server *srv;
    atomic_bool done;
} emb;

static void *emb_client(void *arg)
{
    emb *e = arg;
    qk_client_options co = {.timeout_ms = 5000};
    qk_client *c;
    CHECK(qk_client_connect_unix(su_path("emb.sock"), &co, &c) == 0);
    for (int i = 0; i < 20; i++) {
        qk_json *ret = NULL;
        CHECK(qk_client_execute(c, "echo", qk_json_pack("{s:i}", "i", i), 0,
                                &ret, NULL) == 0);
        qk_json_unref(ret);
    }
    qk_client_free(c);
    atomic_store(&e->done, true);
    return NULL;
}

static void test_embedded(void)
{
    qk_server_options o = {0};
    o.flags = QK_SRV_NO_IO_THREAD;
    o.session.commands = test_table();
    emb e = {0};
    CHECK(qk_server_new(&o, &e.srv) == 0);
    qk_command_table_unref(o.session.commands);
    CHECK(qk_server_listen_unix(e.srv, su_path("emb.sock"), 0) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, emb_client, &e) == 0);
    struct pollfd p[2] = {{.fd = qk_server_io_fd(e.srv), .events = POLLIN},
                          {.fd = qk_server_dispatch_fd(e.srv), .events = POLLIN}};
    int64_t t0 = su_now_us();
    while (!atomic_load(&e.done) && su_now_us() - t0 < 10000000) {
        poll(p, 2, 100);
        if (p[0].revents)
            qk_server_io_step(e.srv, 0);
        if (p[1].revents)
            qk_server_dispatch(e.srv);
    }
    pthread_join(th, NULL);
    CHECK(atomic_load(&e.done));
    qk_server_free(e.srv);
}

/* In-band commands on the application's executor (a worker thread). */
typedef struct job {
    void (*fn)(void *);
    void *arg;
    struct job *next;
} job;
static pthread_mutex_t ex_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ex_cv = PTHREAD_COND_INITIALIZER;
static job *ex_head;
static bool ex_quit;
static atomic_int ex_ran;

static void executor(void (*fn)(void *), void *arg, void *opaque)
{
    (void)opaque;
    job *j = malloc(sizeof *j);
    CHECK(j);
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&ex_mu);
    j->next = ex_head;
    ex_head = j;
    pthread_cond_signal(&ex_cv);
    pthread_mutex_unlock(&ex_mu);
}

static void *ex_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&ex_mu);
    for (;;) {
        while (!ex_head && !ex_quit)
            pthread_cond_wait(&ex_cv, &ex_mu);
        if (!ex_head)
            break;
        job *j = ex_head;
        ex_head = j->next;
        pthread_mutex_unlock(&ex_mu);
        j->fn(j->arg);
        atomic_fetch_add(&ex_ran, 1);
        free(j);
        pthread_mutex_lock(&ex_mu);
    }
    pthread_mutex_unlock(&ex_mu);
    return NULL;
}

static void test_executor(void)
{
    qk_server_options o = {0};
    o.session.commands = test_table();
    o.executor = executor;
    qk_server *srv;
    CHECK(qk_server_new(&o, &srv) == 0);
    qk_command_table_unref(o.session.commands);
    CHECK(qk_server_listen_unix(srv, su_path("ex.sock"), 0) == 0);
    CHECK(qk_server_start(srv) == 0);
    pthread_t w;
    CHECK(pthread_create(&w, NULL, ex_worker, NULL) == 0);
    qk_client_options co = {.timeout_ms = 5000};
    qk_client *c;
    CHECK(qk_client_connect_unix(su_path("ex.sock"), &co, &c) == 0);
    for (int i = 0; i < 10; i++)
        CHECK(qk_client_execute(c, "echo", NULL, 0, NULL, NULL) == 0);
    qk_client_free(c);
    CHECK(atomic_load(&ex_ran) >= 1);
    qk_server_free(srv); /* waits for the executor's jobs */
    pthread_mutex_lock(&ex_mu);
    ex_quit = true;
    pthread_cond_broadcast(&ex_cv);
    pthread_mutex_unlock(&ex_mu);
    pthread_join(w, NULL);
}

static void test_tcp(void)
{
    qk_server_options o = {0};
    o.session.commands = test_table();
    qk_server *srv;
    CHECK(qk_server_new(&o, &srv) == 0);
    qk_command_table_unref(o.session.commands);
    unsigned port = 0;
    CHECK(qk_server_listen_tcp(srv, NULL, 0, &port) == 0 && port > 0);
    pthread_t d;
    CHECK(pthread_create(&d, NULL, disp_main, srv) == 0);
    qk_client_options co = {.timeout_ms = 5000};
    qk_client *c;
    CHECK(qk_client_connect_tcp("127.0.0.1", port, &co, &c) == 0);
    qk_json *ret = NULL;
    CHECK(qk_client_execute(c, "echo", qk_json_pack("{s:s}", "via", "tcp"), 0,
                            &ret, NULL) == 0);
    CHECK(strcmp(su_text(ret), "{\"via\": \"tcp\"}") == 0);
    qk_json_unref(ret);
    qk_client_free(c);
    qk_server_stop(srv);
    pthread_join(d, NULL);
    qk_server_free(srv);
}

/* A connection handed in as descriptors (stdio-style: a pipe pair) and
 * a listening socket adopted as if from systemd. */
static void test_adopt(void)
{
    qk_server_options o = {0};
    o.session.commands = test_table();
    qk_server *srv;
    CHECK(qk_server_new(&o, &srv) == 0);
    qk_command_table_unref(o.session.commands);
    int in[2], out[2];
    CHECK(pipe(in) == 0 && pipe(out) == 0);
    CHECK(qk_server_add_connection(srv, in[0], out[1], NULL) == 0);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    su_sun(&sa, su_path("adopt.sock"));
    CHECK(bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 8) == 0);
    CHECK(qk_server_listen_fd(srv, ls) == 0);
    pthread_t d;
    CHECK(pthread_create(&d, NULL, disp_main, srv) == 0);
    su_raw *r = su_raw_open_fd(out[0]);
    qk_json *g = su_raw_recv(r, 5000);
    CHECK(g);
    qk_json_unref(g);
    CHECK(write(in[1], "{\"execute\": \"qmp_capabilities\"}\n", 32) == 32);
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    const char *e = "{\"execute\": \"echo\", \"id\": 9}";
    CHECK(write(in[1], e, strlen(e)) == (ssize_t)strlen(e));
    v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    close(in[1]); /* end of input closes the session */
    bool eof = false;
    v = su_raw_recv_eof(r, 5000, &eof);
    CHECK(!v && eof);
    su_raw_close(r);
    su_raw *s = su_raw_connect(su_path("adopt.sock"));
    su_raw_negotiate(s, false);
    su_raw_close(s);
    qk_server_stop(srv);
    pthread_join(d, NULL);
    qk_server_free(srv);
}

static void test_limit(void)
{
    ts t;
    qk_server_options o = {0};
    o.max_sessions = 3;
    ts_start_opts(&t, &o);
    su_raw *r[4];
    for (int i = 0; i < 3; i++) {
        r[i] = su_raw_connect(t.path);
        su_raw_negotiate(r[i], false);
    }
    r[3] = su_raw_connect(t.path);
    bool eof = false;
    qk_json *v = su_raw_recv_eof(r[3], 5000, &eof);
    CHECK(!v && eof); /* refused: closed without a greeting */
    CHECK(atomic_load(&refused_logs) == 1);
    for (int i = 0; i < 4; i++)
        su_raw_close(r[i]);
    ts_stop(&t);
}

/* A hostile client streams an endless string as fast as it can; another
 * client's round trips stay quick. */
static atomic_bool hostile_stop;

static void *hostile_main(void *arg)
{
    int fd = su_connect_fd(arg);
    CHECK(fd >= 0);
    static char junk[65536];
    memset(junk, 'a', sizeof junk);
    CHECK(write(fd, "{\"execute\": \"", 14) == 14);
    size_t total = 0;
    while (!atomic_load(&hostile_stop) && total < ((size_t)48 << 20)) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 10) <= 0)
            continue;
        ssize_t n = send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN)
            break; /* the server gave up on us: fine */
        if (n > 0)
            total += (size_t)n;
    }
    close(fd);
    return NULL;
}

static void test_hostile(void)
{
    ts t;
    ts_start(&t);
    pthread_t h;
    CHECK(pthread_create(&h, NULL, hostile_main, (void *)t.path) == 0);
    su_raw *r = su_raw_connect(t.path);
    su_raw_negotiate(r, false);
    int64_t worst = 0, sum = 0;
    for (int i = 0; i < 100; i++) {
        int64_t t0 = su_now_us();
        su_raw_sendf(r, "{\"execute\": \"echo\", \"id\": %d}", i);
        qk_json *v = su_raw_recv(r, 5000);
        int64_t dt = su_now_us() - t0;
        CHECK(su_is_return(v, NULL));
        qk_json_unref(v);
        sum += dt;
        if (dt > worst)
            worst = dt;
    }
    printf("100 round trips beside a hostile client: mean %.3f ms, worst "
           "%.3f ms\n", sum / 100 / 1000.0, worst / 1000.0);
    /* generous: sanitizers make the hostile client's parsing slow */
    CHECK(sum / 100 < 25000);
    CHECK(worst < 1000000);
    atomic_store(&hostile_stop, true);
    pthread_join(h, NULL);
    su_raw_close(r);
    ts_stop(&t);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"basic", test_basic},       {"oob", test_oob},
    {"events", test_events},     {"many", test_many},
    {"disconnect", test_disconnect}, {"noread", test_noread},
    {"shutdown", test_shutdown}, {"fds", test_fds},
    {"client", test_client},     {"embedded", test_embedded},
    {"executor", test_executor}, {"tcp", test_tcp},
    {"adopt", test_adopt},       {"limit", test_limit},
    {"hostile", test_hostile},
};

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IONBF, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (argc < 2 || strcmp(argv[1], cases[i].name) == 0) {
            printf("== %s\n", cases[i].name);
            cases[i].fn();
        }
    }
    return 0;
}
