/* SPDX-License-Identifier: MIT */
/*
 * qk_server against QEMU 7.2 over real unix sockets, the same raw client
 * for both (it writes request text and counts reply lines), everything
 * pinned to the same CPUs, one run (issue 6's figures):
 *
 *  - a raw unix-socket ping-pong between two threads: the floor;
 *  - serial query-version round trips: commands/s and median latency;
 *  - 64 requests in flight with ids, OOB negotiated;
 *  - 50 clients at once (ours: one listening socket; QEMU: 50 monitors);
 *  - 10,000 idle sessions: memory per session, and the slowdown of an
 *    active session;
 *  - query-qmp-schema: reply bytes per second (our server serves the very
 *    schema QEMU reports, so the replies are the same size);
 *  - one event to 1,000 negotiated sessions: deliveries per second.
 *
 * QEMU runs as `qemu-system-x86_64 -machine none -nodefaults -display
 * none`; without it, only our figures are printed. Each figure runs for
 * about a second (QK_BENCH_SECONDS overrides).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qmpkit/server.h"

static double secs = 1.0;
static char dir[128];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench-server: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- the raw client ---- */

typedef struct bc {
    int fd;
    char buf[1 << 16];
    size_t bytes; /* received in total */
} bc;

static int connect_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void bc_send(bc *c, const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(c->fd, s, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        s += n;
        len -= (size_t)n;
    }
}

/* Reads until n more lines have ended. */
static void bc_lines(bc *c, size_t n)
{
    while (n) {
        ssize_t r = read(c->fd, c->buf, sizeof c->buf);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            die("read");
        }
        c->bytes += (size_t)r;
        for (ssize_t i = 0; i < r; i++)
            if (c->buf[i] == '\n')
                n--;
    }
}

static bc *bc_open(const char *path, bool oob)
{
    bc *c = calloc(1, sizeof *c);
    if (!c)
        die("calloc");
    c->fd = connect_path(path);
    if (c->fd < 0)
        die("connect");
    static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\n";
    static const char caps_oob[] = "{\"execute\": \"qmp_capabilities\", "
                                   "\"arguments\": {\"enable\": [\"oob\"]}}\n";
    if (oob)
        bc_send(c, caps_oob, strlen(caps_oob));
    else
        bc_send(c, caps, strlen(caps));
    bc_lines(c, 2);
    return c;
}

static void bc_close(bc *c)
{
    close(c->fd);
    free(c);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- figures ---- */

static const char qv[] = "{\"execute\": \"query-version\"}\n";

typedef struct serial_result {
    double rate;      /* commands/s */
    double median_us;
} serial_result;

static serial_result serial(const char *path, const char *req, double t)
{
    bc *c = bc_open(path, false);
    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    size_t len = strlen(req);
    double t0 = now(), end = t0 + t;
    for (;;) {
        double a = now();
        if (a >= end || n == cap)
            break;
        bc_send(c, req, len);
        bc_lines(c, 1);
        lat[n++] = (now() - a) * 1e6;
    }
    serial_result r = {n / (now() - t0), 0};
    qsort(lat, n, sizeof *lat, cmp_double);
    r.median_us = n ? lat[n / 2] : 0;
    free(lat);
    bc_close(c);
    return r;
}

static double pipelined_once(const char *path, int depth, double t)
{
    bc *c = bc_open(path, true);
    char batch[64 * 64];
    size_t blen = 0;
    long id = 0, done = 0;
    for (int i = 0; i < depth; i++)
        blen += (size_t)sprintf(batch + blen,
                                "{\"execute\": \"query-version\", \"id\": %ld}\n",
                                id++);
    bc_send(c, batch, blen);
    double t0 = now(), end = t0 + t;
    while (now() < end) {
        ssize_t r = read(c->fd, c->buf, sizeof c->buf);
        if (r <= 0)
            die("read");
        int lines = 0;
        for (ssize_t i = 0; i < r; i++)
            lines += c->buf[i] == '\n';
        done += lines;
        blen = 0;
        for (int i = 0; i < lines; i++)
            blen += (size_t)sprintf(batch + blen,
                                    "{\"execute\": \"query-version\", \"id\": %ld}\n",
                                    id++);
        bc_send(c, batch, blen);
    }
    double rate = done / (now() - t0);
    bc_close(c);
    return rate;
}

/* The closed loop swings between large and small batches with the load
 * on the machine: the median of five runs. */
static double pipelined(const char *path, int depth, double t)
{
    double r[5];
    for (int i = 0; i < 5; i++)
        r[i] = pipelined_once(path, depth, t / 5);
    qsort(r, 5, sizeof r[0], cmp_double);
    return r[2];
}

/* n clients, one request in flight each, driven by one client thread
 * with epoll (so the client's own thread switches do not dominate);
 * paths[i] is client i's socket. */
static double multi(char paths[][256], int n, double t)
{
    bc *c[64];
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        c[i] = bc_open(paths[i], false);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i]->fd, &ev);
        bc_send(c[i], qv, strlen(qv));
    }
    long total = 0;
    double t0 = now(), end = t0 + t;
    struct epoll_event evs[64];
    while (now() < end) {
        int m = epoll_wait(ep, evs, 64, 1000);
        for (int k = 0; k < m; k++) {
            bc *x = c[evs[k].data.u32];
            ssize_t r = read(x->fd, x->buf, sizeof x->buf);
            if (r <= 0)
                die("read");
            for (ssize_t j = 0; j < r; j++) {
                if (x->buf[j] == '\n') {
                    total++;
                    bc_send(x, qv, strlen(qv));
                }
            }
        }
    }
    double rate = total / (now() - t0);
    for (int i = 0; i < n; i++)
        bc_close(c[i]);
    close(ep);
    return rate;
}

static double schema_rate(const char *path, double t, size_t *reply_bytes,
                          double *ms_each)
{
    bc *c = bc_open(path, false);
    static const char req[] = "{\"execute\": \"query-qmp-schema\"}\n";
    size_t before = c->bytes;
    long n = 0;
    double t0 = now(), end = t0 + t;
    while (now() < end) {
        bc_send(c, req, strlen(req));
        bc_lines(c, 1);
        n++;
    }
    double el = now() - t0;
    *reply_bytes = n ? (c->bytes - before) / (size_t)n : 0;
    *ms_each = n ? el * 1e3 / n : 0;
    double rate = (c->bytes - before) / el;
    bc_close(c);
    return rate;
}

/* ---- raw ping-pong ---- */

static void *echo_thread(void *p)
{
    int fd = *(int *)p;
    char b[4096];
    for (;;) {
        ssize_t n = read(fd, b, sizeof b);
        if (n <= 0)
            return NULL;
        if (write(fd, b, (size_t)n) != n)
            return NULL;
    }
}

static serial_result pingpong(double t)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        die("socketpair");
    pthread_t th;
    pthread_create(&th, NULL, echo_thread, &sv[1]);
    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    char b[256];
    double t0 = now(), end = t0 + t;
    for (;;) {
        double a = now();
        if (a >= end || n == cap)
            break;
        if (write(sv[0], qv, strlen(qv)) < 0)
            die("write");
        size_t got = 0;
        while (got < strlen(qv)) {
            ssize_t r = read(sv[0], b, sizeof b);
            if (r <= 0)
                die("read");
            got += (size_t)r;
        }
        lat[n++] = (now() - a) * 1e6;
    }
    serial_result r = {n / (now() - t0), 0};
    qsort(lat, n, sizeof *lat, cmp_double);
    r.median_us = lat[n / 2];
    free(lat);
    shutdown(sv[0], SHUT_RDWR);
    pthread_join(th, NULL);
    close(sv[0]);
    close(sv[1]);
    return r;
}

/* ---- processes ---- */

static pid_t start_qemu(const char *prefix, int monitors)
{
    if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0)
        return 0;
    char **argv = calloc((size_t)(8 + 2 * monitors), sizeof *argv);
    int k = 0;
    argv[k++] = "qemu-system-x86_64";
    argv[k++] = "-machine";
    argv[k++] = "none";
    argv[k++] = "-nodefaults";
    argv[k++] = "-display";
    argv[k++] = "none";
    for (int i = 0; i < monitors; i++) {
        argv[k++] = "-qmp";
        if (asprintf(&argv[k++], "unix:%s/%s%d.sock,server=on,wait=off", dir,
                     prefix, i) < 0)
            die("asprintf");
    }
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    for (int i = 0; i < monitors; i++)
        free(argv[7 + 2 * i]);
    free(argv);
    char last[256];
    snprintf(last, sizeof last, "%s/%s%d.sock", dir, prefix, monitors - 1);
    for (int i = 0; i < 500; i++) {
        int fd = connect_path(last);
        if (fd >= 0) {
            close(fd);
            return pid;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}

static void stop_qemu(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* query-qmp-schema's value from QEMU, to serve the same from ours. */
static qk_json *fetch_schema(const char *path)
{
    bc *c = bc_open(path, false);
    static const char req[] = "{\"execute\": \"query-qmp-schema\"}\n";
    bc_send(c, req, strlen(req));
    qk_json_parser *p = qk_json_parser_new(NULL);
    qk_json *v = NULL;
    while (!v) {
        ssize_t r = read(c->fd, c->buf, sizeof c->buf);
        if (r <= 0)
            break;
        size_t off = 0;
        while (off < (size_t)r && !v) {
            size_t used;
            qk_json_error err;
            int st = qk_json_parser_feed(p, c->buf + off, (size_t)r - off,
                                         &used, &v, &err);
            off += used;
            if (st == QK_JSON_ERROR)
                break;
        }
    }
    qk_json_parser_free(p);
    bc_close(c);
    qk_json *ret = v ? qk_json_ref(qk_json_object_get(v, "return")) : NULL;
    qk_json_unref(v);
    return ret;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* ---- our server ---- */

static void cmd_ping(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)args, (void)ret, (void)errp, (void)op;
}

static qk_server *srv;
static pthread_t disp;

static void *disp_main(void *p)
{
    qk_server_run(p);
    return NULL;
}

static void start_ours(const char *path, qk_json *schema)
{
    qk_command_table *t = qk_command_table_new();
    qk_command_table_add(t, "ping", cmd_ping, QK_CMD_ALLOW_OOB, NULL);
    qk_server_options o = {0};
    o.session.commands = t;
    o.session.flags = QK_SERVER_OOB;
    o.session.schema = schema;
    o.max_sessions = 20000;
    if (qk_server_new(&o, &srv) < 0 || qk_server_listen_unix(srv, path, 0) < 0)
        die("server");
    qk_command_table_unref(t);
    qk_server_start(srv);
    pthread_create(&disp, NULL, disp_main, srv);
}

static void stop_ours(void)
{
    qk_server_stop(srv);
    pthread_join(disp, NULL);
    qk_server_free(srv);
}

/* Connects n negotiated idle sessions from a child process (so both
 * ends' descriptors do not share one limit); returns its pid once they
 * are all up. */
static pid_t idle_child(const char *path, int n)
{
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        int *fds = malloc((size_t)n * sizeof *fds);
        static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\n";
        for (int i = 0; i < n; i++) {
            fds[i] = connect_path(path);
            if (fds[i] < 0)
                _exit(1);
            if (write(fds[i], caps, strlen(caps)) < 0)
                _exit(1);
        }
        char b[512];
        for (int i = 0; i < n; i++) {
            int lines = 0;
            while (lines < 2) {
                ssize_t r = read(fds[i], b, sizeof b);
                if (r <= 0)
                    _exit(1);
                for (ssize_t k = 0; k < r; k++)
                    lines += b[k] == '\n';
            }
        }
        if (write(p[1], "k", 1) != 1)
            _exit(1);
        char x;
        if (read(p[1], &x, 1) < 0) /* until the parent closes */
            _exit(0);
        pause();
        _exit(0);
    }
    close(p[1]);
    char x;
    if (read(p[0], &x, 1) != 1) {
        fprintf(stderr, "bench-server: idle sessions failed\n");
        close(p[0]);
        return -pid;
    }
    close(p[0]);
    return pid;
}

/* One event to n sessions, k times; deliveries per second. */
static double events(const char *path, int n, int k)
{
    int ep = epoll_create1(0);
    int *fds = malloc((size_t)n * sizeof *fds);
    for (int i = 0; i < n; i++) {
        bc *c = bc_open(path, false);
        fds[i] = dup(c->fd);
        bc_close(c);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
    while (qk_server_session_count(srv) < (size_t)n)
        usleep(1000);
    qk_json *e = qk_event_new("BENCH", qk_json_pack("{s:i}", "n", 1), 0);
    long want = (long)n * k, got = 0;
    double t0 = now();
    for (int i = 0; i < k; i++)
        qk_server_broadcast(srv, e);
    double t_emit = now() - t0;
    char b[1 << 16];
    struct epoll_event evs[256];
    while (got < want && now() - t0 < 30) {
        int m = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < m; i++) {
            ssize_t r = read(fds[evs[i].data.u32], b, sizeof b);
            for (ssize_t j = 0; j < r; j++)
                got += b[j] == '\n';
        }
    }
    double el = now() - t0;
    if (getenv("QK_BENCH_VERBOSE"))
        printf("  (emitting took %.3f s, delivering %.3f s, %ld of %ld)\n",
               t_emit, el, got, want);
    qk_json_unref(e);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    close(ep);
    return got / el;
}

int main(void)
{
    /* QK_BENCH_ONLY=multi|events|pipelined: one figure of ours alone, for profiling */
    const char *only = getenv("QK_BENCH_ONLY");
    if (only) {
        snprintf(dir, sizeof dir, "/tmp/qk-bench-XXXXXX");
        if (!mkdtemp(dir))
            die("mkdtemp");
        char p[256];
        snprintf(p, sizeof p, "%s/ours.sock", dir);
        start_ours(p, NULL);
        if (strcmp(only, "events") == 0) {
            printf("%.0f deliveries/s\n", events(p, 1000, 200));
        } else if (strcmp(only, "pipelined") == 0) {
            printf("%.0f cmd/s\n", pipelined(p, 64, 1.0));
        } else {
            static char paths[50][256];
            for (int i = 0; i < 50; i++)
                snprintf(paths[i], 256, "%s", p);
            printf("%.0f cmd/s\n", multi(paths, 50, 1.0));
        }
        stop_ours();
        rmdir(dir);
        return 0;
    }
    const char *s = getenv("QK_BENCH_SECONDS");
    if (s)
        secs = atof(s);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    /* the same CPUs for everything, QEMU included (it inherits the mask) */
    cpu_set_t set;
    sched_getaffinity(0, sizeof set, &set);
    sched_setaffinity(0, sizeof set, &set);
    printf("CPUs: %d, %.1f s per figure\n", CPU_COUNT(&set), secs);

    snprintf(dir, sizeof dir, "/tmp/qk-bench-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    char ours[256], qemu1[256];
    snprintf(ours, sizeof ours, "%s/ours.sock", dir);
    snprintf(qemu1, sizeof qemu1, "%s/qemu0.sock", dir);

    pid_t q = start_qemu("qemu", 1);
    if (!q)
        printf("QEMU: not installed or did not start: our figures only\n");
    qk_json *schema = q ? fetch_schema(qemu1) : NULL;
    start_ours(ours, schema);

    serial_result pp = pingpong(secs);
    printf("\nraw unix-socket ping-pong: %.0f round trips/s, median %.1f us\n",
           pp.rate, pp.median_us);

    serial_result so = serial(ours, qv, secs);
    printf("\nserial query-version\n  qmpkit: %9.0f cmd/s, median %6.1f us "
           "(%.2fx ping-pong)\n", so.rate, so.median_us,
           so.median_us / pp.median_us);
    serial_result sq = {0, 0};
    if (q) {
        sq = serial(qemu1, qv, secs);
        printf("  QEMU:   %9.0f cmd/s, median %6.1f us\n  ratio:  %.1fx "
               "(target: 10x, median within 3x of the ping-pong)\n",
               sq.rate, sq.median_us, so.rate / sq.rate);
    }
    serial_result si = serial(ours, "{\"execute\": \"ping\"}\n", secs);
    printf("  (qmpkit, an application command on the dispatcher: %.0f cmd/s, "
           "median %.1f us)\n", si.rate, si.median_us);

    double po = pipelined(ours, 64, secs);
    printf("\n64 in flight, ids, OOB negotiated\n  qmpkit: %9.0f cmd/s\n", po);
    if (q) {
        double pq = pipelined(qemu1, 64, secs);
        printf("  QEMU:   %9.0f cmd/s\n  ratio:  %.1fx (target: 300,000 "
               "cmd/s and 50x)\n", pq, po / pq);
    }

    static char paths[50][256];
    for (int i = 0; i < 50; i++)
        snprintf(paths[i], 256, "%s", ours);
    double mo = multi(paths, 50, secs);
    printf("\n50 clients\n  qmpkit (one socket): %9.0f cmd/s\n", mo);
    if (q) {
        pid_t q50 = start_qemu("multi", 50);
        if (q50) {
            for (int i = 0; i < 50; i++)
                snprintf(paths[i], 256, "%s/multi%d.sock", dir, i);
            double mq = multi(paths, 50, secs);
            printf("  QEMU (50 monitors):  %9.0f cmd/s\n  ratio:  %.1fx "
                   "(target: 20x)\n", mq, mo / mq);
            stop_qemu(q50);
        }
    }

    if (schema) {
        size_t bytes_o, bytes_q;
        double ms_o, ms_q;
        double ro = schema_rate(ours, secs, &bytes_o, &ms_o);
        double rq = schema_rate(qemu1, secs, &bytes_q, &ms_q);
        printf("\nquery-qmp-schema (QEMU's own schema, %zu bytes per reply)\n"
               "  qmpkit: %7.1f MB/s, %6.2f ms per reply\n"
               "  QEMU:   %7.1f MB/s, %6.2f ms per reply (%zu bytes)\n"
               "  ratio:  %.1fx (target: 20x)\n", bytes_o, ro / 1e6, ms_o,
               rq / 1e6, ms_q,
               bytes_q, ro / rq);
    } else {
        printf("\nquery-qmp-schema: skipped (needs QEMU for its schema)\n");
    }

    double ev = events(ours, 1000, 200);
    printf("\none event to 1,000 negotiated sessions (x200)\n"
           "  qmpkit: %.0f deliveries/s (target: 1,000,000)\n", ev);

    /* idle sessions last: they stay until the end */
    serial_result base = serial(ours, qv, secs);
    long rss0 = rss_kib();
    pid_t child = idle_child(ours, 10000);
    if (child > 0) {
        while (qk_server_session_count(srv) < 10000)
            usleep(1000);
        long rss1 = rss_kib();
        serial_result loaded = serial(ours, qv, secs);
        printf("\n10,000 idle sessions\n  memory: %.1f KiB per session\n"
               "  serial query-version: %.1f us median with them, %.1f us "
               "without (%.2fx slower)\n  (targets: 16 KiB, 1.5x)\n",
               (rss1 - rss0) / 10000.0, loaded.median_us, base.median_us,
               loaded.median_us / base.median_us);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    } else if (child < 0) {
        waitpid(-child, NULL, 0);
    }

    stop_ours();
    stop_qemu(q);
    qk_json_unref(schema);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
