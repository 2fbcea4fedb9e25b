/* SPDX-License-Identifier: MIT */
/*
 * demo-client: drives qmp-demo through the blocking qk_client and prints
 * every byte of the exchange ("->" sent, "<-" received): the greeting,
 * negotiation with OOB, a few commands (a union, an alternate, a list),
 * an error, events, and an OOB ping answered while an in-band sleep runs.
 *
 *   demo-client SOCKET
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "qmpkit/client.h"

typedef struct line_buf {
    char data[1 << 16];
    size_t len;
} line_buf;

static line_buf bufs[2];

static void trace(int dir, const char *data, size_t len, void *opaque)
{
    (void)opaque;
    line_buf *b = &bufs[dir];
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (ch == '\n' || b->len + 1 >= sizeof b->data) {
            while (b->len && b->data[b->len - 1] == '\r')
                b->len--;
            if (b->len)
                printf("%s %.*s\n", dir == QK_TRACE_SENT ? "->" : "<-",
                       (int)b->len, b->data);
            b->len = 0;
            if (ch == '\n')
                continue;
        }
        b->data[b->len++] = ch;
    }
    /* our requests have no newline: print them whole */
    if (dir == QK_TRACE_SENT && b->len) {
        printf("-> %.*s\n", (int)b->len, b->data);
        b->len = 0;
    }
    fflush(stdout);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void say(const char *text)
{
    printf("\n# %s\n", text);
    fflush(stdout);
}

static int run(qk_client *c, const char *name, qk_json *args, unsigned flags)
{
    qk_json *ret = NULL;
    qk_error *err = NULL;
    int rc = qk_client_execute(c, name, args, flags, &ret, &err);
    qk_json_unref(ret);
    qk_error_free(err);
    if (rc < 0)
        fprintf(stderr, "demo-client: %s: %s\n", name, qk_strerror(rc));
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: demo-client SOCKET\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    qk_client_options o = {.flags = QK_CLIENT_WANT_OOB, .timeout_ms = 10000,
                           .trace = trace};
    qk_client *c;
    say("connect: the server greets, the client negotiates with OOB");
    int rc;
    /* the server may still be starting: retry for a few seconds */
    for (int i = 0;; i++) {
        rc = qk_client_connect_unix(argv[1], &o, &c);
        if (rc >= 0 || i == 100)
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc < 0) {
        fprintf(stderr, "demo-client: cannot connect to %s: %s\n", argv[1],
                qk_strerror(rc));
        return 1;
    }
    say("a few commands");
    if (run(c, "query-version", NULL, 0) < 0 ||
        run(c, "query-status", NULL, 0) < 0)
        goto fail;
    say("a union (device-add), an alternate (set-memory), a list (echo-list)");
    run(c, "device-add", qk_json_pack("{s:s, s:s, s:s, s:b}", "id", "disk0",
                                      "kind", "disk", "path", "/tmp/disk.img",
                                      "readonly", 1), 0);
    run(c, "device-add", qk_json_pack("{s:s, s:s, s:s, s:i}", "id", "net0",
                                      "kind", "nic", "mac",
                                      "52:54:00:12:34:56", "queues", 4), 0);
    run(c, "query-devices", NULL, 0);
    run(c, "set-memory", qk_json_pack("{s:{s:i, s:s}}", "size", "value", 512,
                                      "unit", "mib"), 0);
    run(c, "set-memory", qk_json_pack("{s:I}", "size", (int64_t)1 << 30), 0);
    run(c, "echo-list", qk_json_pack("{s:[s, s, s], s:s}", "items", "a", "b",
                                     "c", "separator", ", "), 0);
    say("errors: an unknown command, a bad argument");
    run(c, "no-such-command", NULL, 0);
    run(c, "sleep", qk_json_pack("{s:s}", "ms", "ten"), 0);
    say("events: stop, cont and device-del emit STOP, RESUME, DEVICE_DELETED");
    run(c, "stop", NULL, 0);
    run(c, "query-status", NULL, 0);
    run(c, "cont", NULL, 0);
    run(c, "device-del", qk_json_pack("{s:s}", "id", "net0"), 0);
    run(c, "system_powerdown", NULL, 0);
    qk_json *ev;
    int nev = 0;
    while (qk_client_next_event(c, 200, &ev) == 0) {
        nev++;
        qk_json_unref(ev);
    }
    printf("# %d events received\n", nev);
    say("out of band: ping answered while an in-band sleep of 500 ms runs");
    int64_t sid;
    double t0 = now_ms();
    if (qk_client_send(c, "sleep", qk_json_pack("{s:i}", "ms", 500), 0, NULL,
                       0, &sid) < 0)
        goto fail;
    if (run(c, "ping", NULL, QK_CALL_OOB) < 0)
        goto fail;
    double t_ping = now_ms() - t0;
    if (qk_client_wait(c, sid, NULL, NULL) < 0)
        goto fail;
    double t_sleep = now_ms() - t0;
    printf("# ping answered after %.2f ms, sleep after %.0f ms\n", t_ping,
           t_sleep);
    qk_client_free(c);
    return t_ping < t_sleep ? 0 : 1;
fail:
    qk_client_free(c);
    return 1;
}
