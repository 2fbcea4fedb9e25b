/* SPDX-License-Identifier: MIT */
/*
 * The client role against real traffic and the known races:
 * - ../shared/conformance/qemu-7.2-wire/qemu-7.2-traffic.jsonl replayed:
 *   every request sent (pipelined, before the greeting even arrives), the
 *   server's side fed back in chunks of 1, 7, 4096 bytes and whole, with
 *   LF and CRLF endings; every reply must reach its request's callback
 *   with QEMU's value, every event the event callback, in order;
 * - a 64 MiB reply, and one just over the limit (reported, session goes
 *   on);
 * - file descriptors sent with a request's first byte.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "../testutil.h"
#include "proto-util.h"

typedef struct expect {
    int64_t id;
    qk_json *ret;    /* expected return, or NULL */
    qk_json *error;  /* expected "error" member, or NULL */
    bool done;
} expect;

typedef struct replay {
    expect *ex;
    size_t nex;
    qk_json **events;
    size_t nevents, next_event;
    size_t replies;
    int bad;
    bool ready;
    size_t errors;
} replay;

static void r_event(qk_session *s, qk_json *ev, void *opaque)
{
    (void)s;
    replay *r = opaque;
    if (r->next_event >= r->nevents ||
        !qk_json_equal(ev, r->events[r->next_event]))
        r->bad++;
    r->next_event++;
}

static void r_ready(qk_session *s, int status, const qk_error *err,
                    void *opaque)
{
    (void)s;
    (void)err;
    replay *r = opaque;
    r->ready = status == 0;
}

static void r_error(qk_session *s, const qk_error *err, qk_json *msg,
                    void *opaque)
{
    (void)s;
    (void)err;
    (void)msg;
    ((replay *)opaque)->errors++;
}

static void r_reply(qk_session *s, int status, qk_json *ret,
                    const qk_error *err, void *opaque)
{
    expect *e = opaque;
    (void)s;
    e->done = true;
    if (status != 0) {
        e->id = -1;
        return;
    }
    if (e->ret) {
        if (!ret || !qk_json_equal(ret, e->ret))
            e->id = -1;
    } else {
        const char *cls =
            qk_json_string(qk_json_object_get(e->error, "class"));
        const char *desc = qk_json_string(qk_json_object_get(e->error, "desc"));
        if (!err || strcmp(qk_error_class_name(qk_error_get_class(err)), cls) ||
            strcmp(qk_error_get_desc(err), desc))
            e->id = -1;
    }
}

static char *traffic;
static size_t traffic_len;

static int setup(void **state)
{
    (void)state;
    const char *p = tu_shared_path("conformance/qemu-7.2-wire/"
                                   "qemu-7.2-traffic.jsonl");
    if (p)
        traffic = tu_read_file(p, &traffic_len);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(traffic);
    return 0;
}

/* One replay of the traffic with the server side cut in chunks of step
 * bytes (0: whole) and lines ending in eol. Returns mismatches. */
static int replay_traffic(size_t step, const char *eol, size_t *nmsgs)
{
    replay r = {0};
    qk_client_config cfg = {0};
    cfg.on_event = r_event;
    cfg.on_ready = r_ready;
    cfg.on_error = r_error;
    cfg.opaque = &r;
    qk_session *s;
    assert_int_equal(qk_session_new_client(&cfg, &s), 0);

    /* first pass: requests (sent at once, held until negotiated) */
    qk_json **lines = NULL;
    size_t nl = 0;
    for (char *l = traffic, *end; l < traffic + traffic_len; l = end + 1) {
        end = memchr(l, '\n', (size_t)(traffic + traffic_len - l));
        if (!end)
            end = traffic + traffic_len;
        if (end == l)
            continue;
        lines = realloc(lines, (nl + 1) * sizeof *lines);
        lines[nl] = qk_json_parse(l, (size_t)(end - l), QK_JSON_QMP, NULL);
        assert_non_null(lines[nl]);
        nl++;
    }
    *nmsgs = nl;
    r.ex = calloc(nl, sizeof *r.ex);
    r.events = calloc(nl, sizeof *r.events);
    /* file id (as text) -> our expectation, by position: each request is
     * followed (possibly after events) by its reply in this capture */
    qk_buf sent_expect = QK_BUF_INIT;
    expect *pending = NULL;
    qk_buf server = QK_BUF_INIT;
    int64_t caps_id = 0;
    size_t nreq = 0;
    for (size_t i = 0; i < nl; i++) {
        qk_json *m = lines[i];
        const char *exec = qk_json_string(qk_json_object_get(m, "execute"));
        if (exec && strcmp(exec, "qmp_capabilities") == 0) {
            continue;
        } else if (exec) {
            expect *e = &r.ex[r.nex++];
            qk_json *args = qk_json_object_get(m, "arguments");
            assert_int_equal(qk_session_call(s, exec, qk_json_ref(args), 0,
                                             NULL, 0, r_reply, e, &e->id),
                             0);
            pending = e;
            nreq++;
        }
    }
    (void)sent_expect;
    caps_id = (int64_t)nreq + 1;
    /* second pass: the server's side with our ids */
    size_t ei = 0;
    for (size_t i = 0; i < nl; i++) {
        qk_json *m = lines[i];
        if (qk_json_object_get(m, "execute"))
            continue;
        qk_json *copy = qk_json_copy(m);
        if (qk_json_object_get(m, "event")) {
            r.events[r.nevents++] = qk_json_ref(m);
        } else if (qk_json_object_get(m, "return") ||
                   qk_json_object_get(m, "error")) {
            if (!qk_json_object_get(m, "id")) {
                /* the capabilities reply */
                qk_json_object_set_take(copy, "id",
                                        qk_json_int_new(caps_id));
            } else {
                expect *e = &r.ex[ei++];
                e->ret = qk_json_object_get(m, "return");
                e->error = qk_json_object_get(m, "error");
                qk_json_object_set_take(copy, "id", qk_json_int_new(e->id));
            }
        }
        qk_json_write(&server, copy, 0);
        qk_buf_append_str(&server, eol);
        qk_json_unref(copy);
    }
    (void)pending;
    assert_int_equal(ei, r.nex);

    /* feed */
    size_t pos = 0;
    while (pos < server.len) {
        size_t n = step && server.len - pos > step ? step : server.len - pos;
        size_t used;
        assert_int_equal(qk_session_feed(s, server.data + pos, n, NULL, 0,
                                         &used),
                         0);
        assert_int_equal(used, n);
        pos += n;
    }
    int bad = r.bad;
    if (!r.ready)
        bad++;
    if (r.next_event != r.nevents)
        bad++;
    if (r.errors)
        bad++;
    for (size_t i = 0; i < r.nex; i++)
        if (!r.ex[i].done || r.ex[i].id < 0)
            bad++;
    if (qk_session_in_flight(s) != 0)
        bad++;

    /* what the client sent: caps, then every request in order, same
     * execute and arguments as the capture */
    qk_buf out = QK_BUF_INIT;
    pu_drain(s, &out);
    pu_msgs sent = {0};
    pu_split(out.data, out.len, "\n", &sent);
    if (sent.n != nreq + 1 || sent.bad_framing)
        bad++;
    size_t k = 1;
    for (size_t i = 0; i < nl && k < sent.n; i++) {
        qk_json *m = lines[i];
        const char *exec = qk_json_string(qk_json_object_get(m, "execute"));
        if (!exec || strcmp(exec, "qmp_capabilities") == 0)
            continue;
        qk_json *want = qk_json_copy(m);
        qk_json_object_set_take(want, "id", qk_json_int_new((int64_t)k));
        if (!qk_json_equal(want, sent.v[k]))
            bad++;
        qk_json_unref(want);
        k++;
    }
    pu_msgs_free(&sent);
    qk_buf_free(&out);

    for (size_t i = 0; i < nl; i++)
        qk_json_unref(lines[i]);
    for (size_t i = 0; i < r.nevents; i++)
        qk_json_unref(r.events[i]);
    free(lines);
    free(r.ex);
    free(r.events);
    qk_buf_free(&server);
    qk_session_free(s);
    return bad;
}

static void test_traffic_replay(void **state)
{
    (void)state;
    if (!traffic)
        skip();
    const size_t steps[] = {0, 1, 7, 4096};
    const char *eols[] = {"\r\n", "\n"};
    size_t n = 0, runs = 0;
    for (size_t e = 0; e < 2; e++) {
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            int bad = replay_traffic(steps[i], eols[e], &n);
            if (bad)
                print_error("traffic replay step %zu eol %zu: %d bad\n",
                            steps[i], e, bad);
            assert_int_equal(bad, 0);
            runs++;
        }
    }
    printf("traffic: %zu messages, %zu replays\n", n, runs);
}

/* ---- huge replies ---- */

static int huge_ok, huge_errors;

static void h_reply(qk_session *s, int status, qk_json *ret,
                    const qk_error *err, void *opaque)
{
    (void)s;
    (void)err;
    size_t want = *(size_t *)opaque;
    if (status == 0 && ret && qk_json_string_length(ret) == want)
        huge_ok++;
}

static void h_error(qk_session *s, const qk_error *err, qk_json *msg,
                    void *opaque)
{
    (void)s;
    (void)msg;
    (void)opaque;
    (void)err;
    huge_errors++;
}

static qk_session *ready_client(qk_client_config *cfg)
{
    qk_session *s;
    assert_int_equal(qk_session_new_client(cfg, &s), 0);
    const char *g = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"
                    "{\"return\": {}, \"id\": 1}\r\n";
    size_t used;
    assert_int_equal(qk_session_feed(s, g, strlen(g), NULL, 0, &used), 0);
    assert_true(qk_session_is_ready(s));
    qk_buf out = QK_BUF_INIT;
    pu_drain(s, &out);
    qk_buf_free(&out);
    return s;
}

static void feed_reply(qk_session *s, int64_t id, size_t slen, size_t step)
{
    const char *head = "{\"return\": \"";
    char tail[64];
    snprintf(tail, sizeof tail, "\", \"id\": %lld}\r\n", (long long)id);
    size_t len = strlen(head) + slen + strlen(tail);
    char *buf = malloc(len);
    memcpy(buf, head, strlen(head));
    memset(buf + strlen(head), 'x', slen);
    memcpy(buf + strlen(head) + slen, tail, strlen(tail));
    for (size_t pos = 0; pos < len;) {
        size_t n = len - pos > step ? step : len - pos, used;
        qk_session_feed(s, buf + pos, n, NULL, 0, &used);
        assert_int_equal(used, n);
        pos += n;
    }
    free(buf);
}

static void test_huge_reply(void **state)
{
    (void)state;
    qk_client_config cfg = {0};
    cfg.on_error = h_error;
    qk_session *s = ready_client(&cfg);
    /* a reply of 64 MiB in all: the default limit holds it */
    size_t big = ((size_t)64 << 20) - 64;
    int64_t id;
    assert_int_equal(qk_session_call(s, "big", NULL, 0, NULL, 0, h_reply,
                                     &big, &id),
                     0);
    huge_ok = huge_errors = 0;
    feed_reply(s, id, big, 1 << 20);
    assert_int_equal(huge_ok, 1);
    assert_int_equal(huge_errors, 0);
    qk_session_free(s);

    /* a 1 MiB limit: a larger reply is an error, the session goes on */
    cfg.max_message = 1 << 20;
    s = ready_client(&cfg);
    size_t over = (size_t)2 << 20, small = 10;
    int64_t id2, id3;
    assert_int_equal(qk_session_call(s, "big", NULL, 0, NULL, 0, h_reply,
                                     &over, &id2),
                     0);
    assert_int_equal(qk_session_call(s, "small", NULL, 0, NULL, 0, h_reply,
                                     &small, &id3),
                     0);
    huge_ok = huge_errors = 0;
    feed_reply(s, id2, over, 65536);
    assert_true(huge_errors >= 1);
    feed_reply(s, id3, small, 3);
    assert_int_equal(huge_ok, 1);
    assert_int_equal(qk_session_in_flight(s), 1); /* the lost one */
    qk_session_free(s);
}

/* ---- file descriptors ---- */

static void test_client_fds(void **state)
{
    (void)state;
    qk_client_config cfg = {0};
    qk_session *s = ready_client(&cfg);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(qk_session_call(s, "a", NULL, 0, NULL, 0, NULL, NULL,
                                     NULL),
                     0);
    assert_int_equal(qk_session_call(s, "getfd", NULL, 0, p, 2, NULL, NULL,
                                     NULL),
                     0);
    const void *data;
    size_t len, nfds;
    const int *fds;
    /* first chunk stops where the fds must go */
    qk_session_output(s, &data, &len, &fds, &nfds);
    assert_int_equal(nfds, 0);
    assert_int_equal(len, strlen("{\"execute\": \"a\", \"id\": 2}\n"));
    qk_session_output_consume(s, len);
    qk_session_output(s, &data, &len, &fds, &nfds);
    assert_int_equal(nfds, 2);
    assert_int_equal(fds[0], p[0]);
    assert_memory_equal(data, "{\"execute\": \"getfd\"", 19);
    /* sent with one byte: the engine closes its copies */
    qk_session_output_consume(s, 1);
    assert_int_equal(fcntl(p[0], F_GETFD), -1);
    assert_int_equal(fcntl(p[1], F_GETFD), -1);
    qk_session_output(s, &data, &len, &fds, &nfds);
    assert_int_equal(nfds, 0);
    qk_session_free(s);

    /* fds of a request never sent are closed with the session */
    s = ready_client(&cfg);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(qk_session_call(s, "getfd", NULL, 0, p, 2, NULL, NULL,
                                     NULL),
                     0);
    qk_session_free(s);
    assert_int_equal(fcntl(p[0], F_GETFD), -1);
    assert_int_equal(fcntl(p[1], F_GETFD), -1);
}


static int n_errors, n_events;
static void l_error(qk_session *s, const qk_error *err, qk_json *msg,
                    void *opaque)
{
    (void)s;
    (void)msg;
    (void)opaque;
    if (strstr(qk_error_get_desc(err), "nesting"))
        n_errors++;
}
static void l_event(qk_session *s, qk_json *ev, void *opaque)
{
    (void)s;
    (void)ev;
    (void)opaque;
    n_events++;
}

/* A nesting limit: deeper input is an error, the session goes on. */
static void test_nesting_limit(void **state)
{
    (void)state;
    qk_client_config cfg = {0};
    cfg.max_depth = 4;
    cfg.on_error = l_error;
    cfg.on_event = l_event;
    qk_session *s = ready_client(&cfg);
    const char *in = "{\"event\": \"A\", \"data\": {\"a\": [[1]]}}\n"
                     "{\"event\": \"B\", \"data\": {\"a\": [[[1]]]}}\n"
                     "{\"event\": \"C\"}\n";
    size_t used;
    n_errors = n_events = 0;
    qk_session_feed(s, in, strlen(in), NULL, 0, &used);
    assert_int_equal(n_errors, 1);
    assert_int_equal(n_events, 2);
    qk_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traffic_replay),
        cmocka_unit_test(test_huge_reply),
        cmocka_unit_test(test_client_fds),
        cmocka_unit_test(test_nesting_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
