/* SPDX-License-Identifier: MIT */
/*
 * Server-role unit tests: QEMU's member order for the request checks, the
 * in-band queue and its flow control (1 without OOB, 8 with), OOB
 * requests while in-band ones wait, file descriptors attached to a
 * request, completion from another thread, the event throttle.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "../testutil.h"
#include "proto-util.h"
#include "proto/session-int.h"

static qk_command_table *table;

static int setup(void **state)
{
    (void)state;
    table = pu_table();
    return table ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    qk_command_table_unref(table);
    return 0;
}

static qk_session *server(unsigned flags, bool negotiate, bool oob)
{
    qk_server_config cfg = {table, flags, NULL, NULL, 0, 0};
    qk_session *s;
    assert_int_equal(qk_session_new_server(&cfg, &s), 0);
    qk_buf out = QK_BUF_INIT;
    if (negotiate) {
        const char *c = oob ? "{\"execute\":\"qmp_capabilities\","
                              "\"arguments\":{\"enable\":[\"oob\"]}}"
                            : "{\"execute\":\"qmp_capabilities\"}";
        assert_int_equal(pu_run_server(s, c, strlen(c), NULL, 0, &out), 0);
    }
    pu_drain(s, &out);
    qk_buf_free(&out);
    return s;
}

static char *output(qk_session *s)
{
    qk_buf out = QK_BUF_INIT;
    pu_drain(s, &out);
    char *r = strdup(out.data ? out.data : "");
    qk_buf_free(&out);
    return r;
}

static void test_qdict_order(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        unsigned bucket;
    } k[] = {{"seconds", 5},   {"timestamp", 26}, {"QMP", 99},
             {"exec-oob", 162}, {"execute", 299},  {"event", 361},
             {"return", 401},  {"arguments", 447}, {"id", 486},
             {"error", 489},   {"data", 505}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        assert_int_equal(qk__qdict_bucket(k[i].key, strlen(k[i].key)),
                         k[i].bucket);
    /* the first bad member in QEMU's order wins */
    qk_session *s = server(0, true, false);
    const char *in = "{\"execute\": 1, \"extra\": 2}"
                     "{\"execute\": 1, \"foo\": 2}"
                     "{\"arguments\": 1, \"zzz\": 1, \"execute\": \"x\"}";
    qk_buf out = QK_BUF_INIT;
    assert_int_equal(pu_run_server(s, in, strlen(in), NULL, 0, &out), 0);
    assert_string_equal(
        out.data,
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
        "member 'extra' is unexpected\"}}\r\n"
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
        "member 'execute' must be a string\"}}\r\n"
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
        "member 'zzz' is unexpected\"}}\r\n");
    qk_buf_free(&out);
    qk_session_free(s);
}

static void test_flow_control_no_oob(void **state)
{
    (void)state;
    qk_session *s = server(0, true, false);
    const char *in = "{\"execute\":\"echo\",\"id\":1}"
                     "{\"execute\":\"echo\",\"id\":2}"
                     "{\"execute\":\"echo\",\"id\":3}";
    size_t used;
    /* one in-band request at a time: input stops after the first */
    assert_int_equal(qk_session_feed(s, in, strlen(in), NULL, 0, &used), 0);
    assert_int_equal(used, 25);
    assert_false(qk_session_wants_input(s));
    qk_request *r = qk_session_next_request(s, QK_NEXT_ANY);
    assert_non_null(r);
    assert_false(qk_session_wants_input(s)); /* running counts */
    assert_int_equal(qk_session_feed(s, in + used, strlen(in) - used, NULL,
                                     0, &used),
                     0);
    assert_int_equal(used, 0);
    assert_null(qk_session_next_request(s, QK_NEXT_ANY));
    qk_request_complete(r, NULL, NULL);
    assert_true(qk_session_wants_input(s));
    char *o = output(s);
    assert_string_equal(o, "{\"return\": {}, \"id\": 1}\r\n");
    free(o);
    /* a parse error takes the slot too */
    const char *bad = "{,}{\"execute\":\"echo\"}";
    assert_int_equal(qk_session_feed(s, bad, strlen(bad), NULL, 0, &used), 0);
    assert_int_equal(used, 3);
    assert_false(qk_session_wants_input(s));
    assert_int_equal(qk_session_dispatch(s), 0);
    o = output(s);
    assert_string_equal(o, "{\"error\": {\"class\": \"GenericError\", "
                           "\"desc\": \"JSON parse error, expecting "
                           "value\"}}\r\n");
    free(o);
    qk_session_free(s);
}

static void test_flow_control_oob(void **state)
{
    (void)state;
    qk_session *s = server(QK_SERVER_OOB, true, true);
    assert_true(qk_session_oob_enabled(s));
    qk_buf in = QK_BUF_INIT;
    qk_buf_append_str(&in, "{\"execute\":\"echo\",\"id\":0}");
    size_t first = in.len;
    for (int i = 1; i <= 12; i++)
        qk_buf_printf(&in, "{\"execute\":\"echo\",\"id\":%d}", i);
    size_t before_oob = in.len;
    qk_buf_append_str(&in, "{\"exec-oob\":\"echo-oob\",\"id\":\"oob\"}");
    size_t used;
    assert_int_equal(qk_session_feed(s, in.data, first, NULL, 0, &used), 0);
    qk_request *running = qk_session_next_request(s, QK_NEXT_INBAND);
    assert_non_null(running);
    /* 8 more queue up, then input stops */
    size_t pos = first;
    assert_int_equal(
        qk_session_feed(s, in.data + pos, in.len - pos, NULL, 0, &used), 0);
    pos += used;
    assert_false(qk_session_wants_input(s));
    assert_int_equal(pos, first + 8 * (first + 0)); /* ids 1..8: 25 bytes */
    assert_null(qk_session_next_request(s, QK_NEXT_INBAND));
    /* completing the running one lets the next run; 7 queued: reading
     * resumes, and the OOB request overtakes the queue */
    qk_request_complete(running, NULL, NULL);
    running = qk_session_next_request(s, QK_NEXT_INBAND);
    assert_non_null(running);
    assert_true(qk_session_wants_input(s));
    while (pos < in.len) {
        assert_int_equal(
            qk_session_feed(s, in.data + pos, in.len - pos, NULL, 0, &used),
            0);
        if (!used)
            break;
        pos += used;
    }
    assert_true(pos < before_oob); /* queue full again before the OOB */
    qk_request_complete(running, NULL, NULL);
    /* drain everything, OOB first when it is ready */
    while (pos < in.len || qk_session_dispatch(s) > 0) {
        qk_session_dispatch(s);
        assert_int_equal(
            qk_session_feed(s, in.data + pos, in.len - pos, NULL, 0, &used),
            0);
        pos += used;
    }
    char *o = output(s);
    pu_msgs m = {0};
    pu_split(o, strlen(o), "\r\n", &m);
    assert_int_equal(m.n, 14);
    for (size_t i = 0; i < m.n; i++)
        assert_non_null(qk_json_object_get(m.v[i], "return"));
    free(o);
    pu_msgs_free(&m);
    qk_buf_free(&in);
    qk_session_free(s);
}

static void test_oob_while_inband_runs(void **state)
{
    (void)state;
    qk_session *s = server(QK_SERVER_OOB, true, true);
    const char *in = "{\"execute\":\"echo\",\"id\":1}"
                     "{\"exec-oob\":\"echo-oob\",\"id\":2}";
    size_t used;
    assert_int_equal(qk_session_feed(s, in, strlen(in), NULL, 0, &used), 0);
    assert_int_equal(used, strlen(in));
    qk_request *ib = qk_session_next_request(s, QK_NEXT_INBAND);
    qk_request *oob = qk_session_next_request(s, QK_NEXT_OOB);
    assert_non_null(ib);
    assert_non_null(oob);
    assert_true(qk_request_is_oob(oob));
    assert_false(qk_request_is_oob(ib));
    qk_request_complete(oob, NULL, NULL);
    qk_request_complete(ib, NULL, NULL);
    char *o = output(s);
    assert_string_equal(o, "{\"return\": {}, \"id\": 2}\r\n"
                           "{\"return\": {}, \"id\": 1}\r\n");
    free(o);
    qk_session_free(s);
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static void test_fds(void **state)
{
    (void)state;
    qk_session *s = server(0, true, false);
    int p[2];
    assert_int_equal(pipe(p), 0);
    const char *in = "{\"execute\":\"count-fds\",\"id\":1}";
    size_t used;
    assert_int_equal(qk_session_feed(s, in, 5, p, 2, &used), 0);
    assert_int_equal(qk_session_feed(s, in + 5, strlen(in) - 5, NULL, 0,
                                     &used),
                     0);
    assert_int_equal(pu_dispatch(s), 1);
    char *o = output(s);
    assert_string_equal(o, "{\"return\": {\"fds\": 2}, \"id\": 1}\r\n");
    free(o);
    assert_false(fd_open(p[0])); /* unclaimed: closed on completion */
    assert_false(fd_open(p[1]));

    /* a handler claims one; the other is closed */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(qk_session_feed(s, in, strlen(in), p, 2, &used), 0);
    qk_request *r = qk_session_next_request(s, QK_NEXT_ANY);
    assert_int_equal(qk_request_fd_count(r), 2);
    int fd = qk_request_take_fd(r);
    assert_int_equal(fd, p[0]);
    assert_int_equal(qk_request_fd_count(r), 1);
    qk_request_complete(r, NULL, NULL);
    assert_true(fd_open(p[0]));
    assert_false(fd_open(p[1]));
    close(p[0]);

    /* fds of a request still queued are closed with the session */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(qk_session_feed(s, in, strlen(in), p, 2, &used), 0);
    qk_session_free(s);
    assert_false(fd_open(p[0]));
    assert_false(fd_open(p[1]));
}

static void *complete_later(void *arg)
{
    qk_request *r = arg;
    qk_json *ret = qk_json_pack("{s:s}", "from", "thread");
    qk_request_complete(r, ret, NULL);
    return NULL;
}

static void test_complete_from_thread(void **state)
{
    (void)state;
    qk_session *s = server(0, true, false);
    const char *in = "{\"execute\":\"echo\",\"id\":1}";
    size_t used;
    assert_int_equal(qk_session_feed(s, in, strlen(in), NULL, 0, &used), 0);
    qk_request *r = qk_session_next_request(s, QK_NEXT_INBAND);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, complete_later, r), 0);
    pthread_join(t, NULL);
    char *o = output(s);
    assert_string_equal(o,
                        "{\"return\": {\"from\": \"thread\"}, \"id\": 1}\r\n");
    free(o);
    qk_session_free(s);
}

/* ---- throttle ---- */

static qk_json *sunk[16];
static size_t nsunk;

static void sink(const qk_json *ev, void *opaque)
{
    (void)opaque;
    if (nsunk < 16)
        sunk[nsunk++] = qk_json_ref((qk_json *)ev);
}

static qk_json *ev(const char *name, const char *id, int64_t t)
{
    qk_json *data = id ? qk_json_pack("{s:s}", "id", id) : NULL;
    return qk_event_new(name, data, t);
}

static int64_t ts(size_t i)
{
    int64_t s = 0, u = 0;
    qk_json *t = qk_json_object_get(sunk[i], "timestamp");
    qk_json_get_int64(qk_json_object_get(t, "seconds"), &s);
    qk_json_get_int64(qk_json_object_get(t, "microseconds"), &u);
    return s * 1000000 + u;
}

static void test_throttle(void **state)
{
    (void)state;
    qk_event_throttle *t;
    assert_int_equal(qk_event_throttle_new(sink, NULL, &t), 0);
    assert_int_equal(qk_event_throttle_set_qemu_defaults(t), 0);
    nsunk = 0;
    /* unthrottled: at once */
    qk_event_throttle_emit(t, ev("STOP", NULL, 10), 10);
    assert_int_equal(nsunk, 1);
    /* first at once, then held, last one wins */
    qk_event_throttle_emit(t, ev("RTC_CHANGE", NULL, 100), 100);
    assert_int_equal(nsunk, 2);
    qk_event_throttle_emit(t, ev("RTC_CHANGE", NULL, 200), 200);
    qk_event_throttle_emit(t, ev("RTC_CHANGE", NULL, 300), 300);
    assert_int_equal(nsunk, 2);
    assert_int_equal(qk_event_throttle_deadline(t), 1000100);
    /* per key: another id is independent */
    qk_event_throttle_emit(t, ev("VSERPORT_CHANGE", "a", 400), 400);
    qk_event_throttle_emit(t, ev("VSERPORT_CHANGE", "b", 500), 500);
    qk_event_throttle_emit(t, ev("VSERPORT_CHANGE", "a", 600), 600);
    assert_int_equal(nsunk, 4);
    qk_event_throttle_tick(t, 999999);
    assert_int_equal(nsunk, 4);
    qk_event_throttle_tick(t, 1000100);
    assert_int_equal(nsunk, 5);
    assert_int_equal(ts(4), 300); /* keeps its own timestamp */
    qk_event_throttle_tick(t, 1000600);
    assert_int_equal(nsunk, 6); /* VSERPORT a (600); b had nothing held */
    assert_int_equal(ts(5), 600);
    /* nothing held: the key is forgotten after the next period */
    qk_event_throttle_tick(t, 2000100);
    qk_event_throttle_tick(t, 2000600);
    assert_int_equal(qk_event_throttle_deadline(t), -1);
    qk_event_throttle_emit(t, ev("RTC_CHANGE", NULL, 3000000), 3000000);
    assert_int_equal(nsunk, 7);
    /* a custom rule; period 0 removes throttling */
    assert_int_equal(qk_event_throttle_set(t, "RTC_CHANGE", 0, NULL), 0);
    qk_event_throttle_emit(t, ev("RTC_CHANGE", NULL, 3000001), 3000001);
    assert_int_equal(nsunk, 8);
    for (size_t i = 0; i < nsunk; i++)
        qk_json_unref(sunk[i]);
    qk_event_throttle_free(t);
}

static void test_event_shape(void **state)
{
    (void)state;
    qk_json *e = qk_event_new("X", NULL, -5);
    char *s = qk_json_to_string(e, 0, NULL);
    assert_string_equal(s, "{\"timestamp\": {\"seconds\": -1, "
                           "\"microseconds\": -1}, \"event\": \"X\"}");
    qk_free(s);
    qk_json_unref(e);
}

static void test_error_api(void **state)
{
    (void)state;
    qk_error *e = NULL;
    qk_error_setg(&e, QK_ERROR_DEVICE_NOT_FOUND, "dev %d", 3);
    qk_error_setg(&e, QK_ERROR_GENERIC, "ignored");
    assert_string_equal(qk_error_get_desc(e), "dev 3");
    assert_string_equal(qk_error_class_name(qk_error_get_class(e)),
                        "DeviceNotFound");
    qk_error *dst = NULL;
    qk_error_propagate(&dst, e);
    assert_ptr_equal(dst, e);
    qk_error_propagate(NULL, NULL);
    qk_error_free(dst);
    qk_error_class c;
    assert_int_equal(qk_error_class_from_name("KVMMissingCap", &c), 0);
    assert_int_equal(c, QK_ERROR_KVM_MISSING_CAP);
    assert_int_equal(qk_error_class_from_name("Nope", &c), QK_ERR_NOENT);
    /* out of memory gives the static error, freeing it is harmless */
    tu_alloc_install(1);
    qk_error *oom = NULL;
    qk_error_setg(&oom, QK_ERROR_GENERIC, "x");
    tu_alloc_restore();
    assert_string_equal(qk_error_get_desc(oom), "out of memory");
    qk_error_free(oom);
}

static void test_table(void **state)
{
    (void)state;
    qk_command_table *t = qk_command_table_new();
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "cmd-%d", i);
        assert_int_equal(qk_command_table_add(t, name, pu_echo, 0, NULL), 0);
    }
    assert_int_equal(qk_command_table_add(t, "cmd-7", pu_echo, 0, NULL),
                     QK_ERR_INVAL);
    assert_int_equal(qk_command_table_size(t), 300);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "cmd-%d", i);
        const qk_command *c = qk__table_find(t, name);
        assert_non_null(c);
        assert_string_equal(c->name, name);
    }
    assert_null(qk__table_find(t, "cmd-300"));
    assert_int_equal(qk_command_table_disable(t, "nope", NULL), QK_ERR_NOENT);
    assert_int_equal(qk_command_table_disable(t, "cmd-1", "why"), 0);
    assert_int_equal(qk_command_table_enable(t, "cmd-1"), 0);
    qk_command_table_unref(t);
}


/* 2018 form: a full queue drops the request and says so. */
static void test_command_dropped(void **state)
{
    (void)state;
    qk_session *s = server(QK_SERVER_OOB | QK_SERVER_COMPAT_2018, true, true);
    qk_buf in = QK_BUF_INIT;
    for (int i = 0; i < 11; i++)
        qk_buf_printf(&in, "{\"execute\":\"echo\",\"id\":%d}", i);
    size_t used;
    assert_int_equal(qk_session_feed(s, in.data, 25, NULL, 0, &used), 0);
    qk_request *running = qk_session_next_request(s, QK_NEXT_INBAND);
    assert_non_null(running);
    /* never held back: 8 queue, the other 2 are dropped */
    assert_int_equal(qk_session_feed(s, in.data + 25, in.len - 25, NULL, 0,
                                     &used),
                     0);
    assert_int_equal(used, in.len - 25);
    char *o = output(s);
    pu_msgs m = {0};
    pu_split(o, strlen(o), "\r\n", &m);
    assert_int_equal(m.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(qk_json_string(qk_json_object_get(m.v[i],
                                                              "event")),
                            "COMMAND_DROPPED");
        qk_json *d = qk_json_object_get(m.v[i], "data");
        int64_t id;
        assert_int_equal(qk_json_get_int64(qk_json_object_get(d, "id"), &id),
                         0);
        assert_int_equal(id, 9 + (int64_t)i);
        assert_string_equal(qk_json_string(qk_json_object_get(d, "reason")),
                            "queue-full");
    }
    pu_msgs_free(&m);
    free(o);
    qk_request_complete(running, NULL, NULL);
    assert_int_equal(qk_session_dispatch(s), 8);
    qk_buf_free(&in);
    qk_session_free(s);
}

/* Guest agent: never a greeting, events dropped, LF endings. */
static void test_guest_agent_quiet(void **state)
{
    (void)state;
    qk_session *s = server(QK_SERVER_GUEST_AGENT, false, false);
    assert_int_equal(qk_session_output_pending(s), 0);
    assert_true(qk_session_in_command_mode(s));
    qk_json *e = qk_event_new("X", NULL, 1);
    assert_int_equal(qk_session_send_event(s, e), 0);
    qk_json_unref(e);
    assert_int_equal(qk_session_output_pending(s), 0);
    qk_session_free(s);
}


static void *emit_events(void *arg)
{
    qk_session *s = arg;
    for (int i = 0; i < 2000; i++) {
        qk_json *e = qk_event_new("TICK", qk_json_pack("{s:i}", "i", i), i);
        qk_session_send_event(s, e);
        qk_json_unref(e);
    }
    return NULL;
}

/* Events from another thread while requests run: nothing lost or torn,
 * replies in order. */
static void test_threads(void **state)
{
    (void)state;
    qk_session *s = server(0, true, false);
    qk_buf in = QK_BUF_INIT;
    for (int i = 0; i < 2000; i++)
        qk_buf_printf(&in, "{\"execute\":\"echo\",\"id\":%d}\n", i);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, emit_events, s), 0);
    qk_buf out = QK_BUF_INIT;
    assert_int_equal(pu_run_server(s, in.data, in.len, NULL, 0, &out), 0);
    pthread_join(t, NULL);
    pu_drain(s, &out);
    pu_msgs m = {0};
    pu_split(out.data, out.len, "\r\n", &m);
    assert_false(m.bad_framing);
    assert_int_equal(m.n, 4000);
    int64_t next_id = 0, next_ev = 0, v;
    for (size_t i = 0; i < m.n; i++) {
        assert_non_null(m.v[i]);
        if (qk_json_object_get(m.v[i], "event")) {
            qk_json_get_int64(qk_json_object_get(
                                  qk_json_object_get(m.v[i], "data"), "i"),
                              &v);
            assert_int_equal(v, next_ev++);
        } else {
            qk_json_get_int64(qk_json_object_get(m.v[i], "id"), &v);
            assert_int_equal(v, next_id++);
        }
    }
    pu_msgs_free(&m);
    qk_buf_free(&out);
    qk_buf_free(&in);
    qk_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qdict_order),
        cmocka_unit_test(test_flow_control_no_oob),
        cmocka_unit_test(test_flow_control_oob),
        cmocka_unit_test(test_oob_while_inband_runs),
        cmocka_unit_test(test_fds),
        cmocka_unit_test(test_complete_from_thread),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_event_shape),
        cmocka_unit_test(test_error_api),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_command_dropped),
        cmocka_unit_test(test_guest_agent_quiet),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
