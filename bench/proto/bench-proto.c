/* SPDX-License-Identifier: MIT */
/*
 * The protocol engine alone, no sockets, one core:
 * - server role: request bytes in -> checks -> handler -> reply bytes out,
 *   for a trivial command, without OOB (one request per feed, QEMU's flow
 *   control) and with OOB (up to 8 queued per feed);
 * - client role: call -> request bytes out, reply bytes in -> callback;
 * - a floor: copying the same bytes in and out with memcpy.
 * Targets (issue 5): at most 0.5 us per command in each role. For scale:
 * a unix-socket round trip costs about 1.3 us here, QEMU about 120 us.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdbool.h>

#include "qmpkit/session.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void trivial(qk_json *args, qk_json **ret, qk_error **errp,
                    void *opaque)
{
    (void)args;
    (void)ret;
    (void)errp;
    (void)opaque;
}

static size_t sink_bytes;

static void drain(qk_session *s)
{
    const void *p;
    size_t n;
    for (;;) {
        qk_session_output(s, &p, &n, NULL, NULL);
        if (!n)
            return;
        sink_bytes += n;
        qk_session_output_consume(s, n);
    }
}

#define BATCH 4096

/* Requests per second through a server. */
static double bench_server(bool oob, size_t total)
{
    qk_command_table *t = qk_command_table_new();
    qk_command_table_add(t, "trivial", trivial, 0, NULL);
    qk_server_config cfg = {t, oob ? QK_SERVER_OOB : 0, NULL, NULL, 0, 0};
    qk_session *s;
    if (qk_session_new_server(&cfg, &s) < 0)
        abort();
    const char *caps = oob ? "{\"execute\":\"qmp_capabilities\","
                             "\"arguments\":{\"enable\":[\"oob\"]}}"
                           : "{\"execute\":\"qmp_capabilities\"}";
    size_t used;
    qk_session_feed(s, caps, strlen(caps), NULL, 0, &used);
    qk_session_dispatch(s);
    drain(s);
    qk_buf in = QK_BUF_INIT;
    for (int i = 0; i < BATCH; i++)
        qk_buf_printf(&in, "{\"execute\": \"trivial\", \"id\": %d}\n", i);
    size_t done = 0;
    double t0 = now();
    while (done < total) {
        size_t pos = 0;
        while (pos < in.len) {
            qk_session_feed(s, in.data + pos, in.len - pos, NULL, 0, &used);
            pos += used;
            done += qk_session_dispatch(s);
            drain(s);
        }
    }
    double dt = now() - t0;
    qk_buf_free(&in);
    qk_session_free(s);
    qk_command_table_unref(t);
    return (double)done / dt;
}

static size_t replies;

static void on_reply(qk_session *s, int status, qk_json *ret,
                     const qk_error *err, void *opaque)
{
    (void)s;
    (void)status;
    (void)ret;
    (void)err;
    (void)opaque;
    replies++;
}

/* Commands per second through a client: call, write, reply, callback. */
static double bench_client(size_t total)
{
    qk_client_config cfg = {0};
    qk_session *s;
    if (qk_session_new_client(&cfg, &s) < 0)
        abort();
    const char *g = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"
                    "{\"return\": {}, \"id\": 1}\r\n";
    size_t used;
    qk_session_feed(s, g, strlen(g), NULL, 0, &used);
    drain(s);
    /* ids 2.. in batches of 64: pipelined calls, then their replies
     * (prepared beforehand: the ids are sequential) */
    qk_buf in = QK_BUF_INIT;
    size_t *ends = malloc((total / 64 + 1) * sizeof *ends);
    for (size_t i = 0; i < total; i++) {
        qk_buf_printf(&in, "{\"return\": {}, \"id\": %zu}\r\n", i + 2);
        if (i % 64 == 63)
            ends[i / 64] = in.len;
    }
    replies = 0;
    size_t pos = 0;
    double t0 = now();
    for (size_t b = 0; b < total / 64; b++) {
        for (int i = 0; i < 64; i++)
            qk_session_call(s, "trivial", NULL, 0, NULL, 0, on_reply, NULL,
                            NULL);
        drain(s);
        qk_session_feed(s, in.data + pos, ends[b] - pos, NULL, 0, &used);
        pos = ends[b];
    }
    double dt = now() - t0;
    free(ends);
    qk_buf_free(&in);
    qk_session_free(s);
    return (double)replies / dt;
}

/* The floor: the same bytes copied in and out, per command. */
static double bench_floor(size_t total)
{
    const char req[] = "{\"execute\": \"trivial\", \"id\": 1234}\n";
    const char rep[] = "{\"return\": {}, \"id\": 1234}\r\n";
    static char a[4096], b[4096];
    size_t done = 0;
    double t0 = now();
    for (; done < total; done++) {
        size_t off = (done * 64) % 4000;
        memcpy(a + off, req, sizeof req);
        memcpy(b + off, rep, sizeof rep);
        __asm__ __volatile__("" ::"r"(a), "r"(b) : "memory");
    }
    double dt = now() - t0;
    return (double)done / dt;
}

static void report(const char *what, double per_s)
{
    printf("%-44s %10.0f /s  %7.3f us/command\n", what, per_s, 1e6 / per_s);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
    /* argv[2] (for profiling): "server" or "client" only */
    const char *only = argc > 2 ? argv[2] : "";
    bool srv = !*only || strcmp(only, "server") == 0;
    bool cli = !*only || strcmp(only, "client") == 0;
    double best_s = 0, best_so = 0, best_c = 0, best_f = 0;
    for (int run = 0; run < 3; run++) {
        double v;
        if (srv && (v = bench_server(false, n)) > best_s)
            best_s = v;
        if (srv && (v = bench_server(true, n)) > best_so)
            best_so = v;
        if (cli && (v = bench_client(n)) > best_c)
            best_c = v;
        if ((v = bench_floor(n * 10)) > best_f)
            best_f = v;
    }
    printf("qmpkit protocol engine, best of 3, %zu commands each\n", n);
    report("server: bytes in -> handler -> bytes out", best_s);
    report("server, OOB negotiated (8 queued per feed)", best_so);
    report("client: call -> bytes out, bytes in -> cb", best_c);
    report("floor: memcpy of request and reply bytes", best_f);
    printf("target: >= 2000000 /s (0.5 us) per role; socket round trip "
           "~1.3 us; QEMU ~120 us\n");
    return (sink_bytes == 0);
}
