/* SPDX-License-Identifier: MIT */
/*
 * Allocation-failure loops over long transcripts, one per role: the Nth
 * allocation fails, for every N until a run sees no failure. Every run
 * must end without a crash or a leak, and a run without failures must
 * produce exactly the reference output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../testutil.h"
#include "proto-util.h"

static qk_buf server_in, client_in;
static char *server_ref, *client_ref;

static void build_inputs(void)
{
    qk_buf *b = &server_in;
    qk_buf_append_str(b, "{\"execute\":\"query-status\",\"id\":0}\n"
                         "{\"execute\":\"qmp_capabilities\","
                         "\"arguments\":{\"enable\":[\"oob\"]}}\n");
    for (int i = 0; i < 6; i++) {
        qk_buf_printf(b, "{\"execute\":\"echo\",\"arguments\":{\"i\":%d,"
                         "\"s\":\"t\\u00e9st\",\"l\":[1,2.5,null,true]},"
                         "\"id\":%d}\n", i, i);
        qk_buf_append_str(b, "{\"exec-oob\":\"echo-oob\",\"id\":\"o\"}\n"
                             "{\"exec-oob\":\"echo\",\"id\":\"x\"}\n"
                             "{\"execute\":\"query-status\"} [1] {,}\n"
                             "{\"execute\":\"nope\",\"id\":[1]}\n"
                             "{\"execute\":\"fail\",\"arguments\":"
                             "{\"class\":\"DeviceNotFound\",\"desc\":\"d\"}}\n"
                             "{\"execute\":\"query-version\"}\n"
                             "{\"execute\":\"query-commands\"}\n"
                             "{\"execute\":\"no-reply\"}\n"
                             "{\"execute\":\"off2\"}\n");
    }

    b = &client_in;
    qk_buf_append_str(b, "{\"event\":\"E0\",\"timestamp\":{\"seconds\":1,"
                         "\"microseconds\":2}}\r\n"
                         "{\"QMP\":{\"version\":{},\"capabilities\":"
                         "[\"oob\"]}}\r\n");
    /* calls 1..12 are held; caps is 13 */
    qk_buf_append_str(b, "{\"event\":\"E1\",\"timestamp\":{\"seconds\":1,"
                         "\"microseconds\":2}, \"data\": {\"a\": [1]}}\r\n"
                         "{\"return\":{},\"id\":13}\r\n");
    for (int i = 12; i >= 1; i--) {
        if (i % 3 == 0)
            qk_buf_printf(b, "{\"id\":%d,\"error\":{\"class\":"
                             "\"GenericError\",\"desc\":\"no %d\"}}\r\n",
                          i, i);
        else
            qk_buf_printf(b, "{\"return\":{\"v\":[%d,\"x\"]},\"id\":%d}\n",
                          i, i);
        qk_buf_append_str(b, "{\"error\":{\"class\":\"GenericError\","
                             "\"desc\":\"JSON parse error\"}} 42 garbage\n");
    }
}

static int server_op(void *arg)
{
    char **out_ref = arg;
    qk_command_table *t = pu_table();
    if (!t)
        return -1;
    qk_server_config cfg = {t, QK_SERVER_OOB, NULL, NULL, 0, 0};
    qk_session *s;
    int rc = qk_session_new_server(&cfg, &s);
    qk_command_table_unref(t);
    if (rc < 0)
        return rc;
    qk_buf out = QK_BUF_INIT;
    rc = pu_run_server(s, server_in.data, server_in.len, NULL, 0, &out);
    /* the session sends a few more events */
    for (int i = 0; rc == 0 && i < 3; i++) {
        qk_json *ev = qk_event_new("TICK", qk_json_pack("{s:i}", "n", i),
                                   1000000 * (int64_t)i);
        rc = ev ? qk_session_send_event(s, ev) : QK_ERR_NOMEM;
        qk_json_unref(ev);
    }
    if (pu_drain(s, &out) < 0)
        rc = QK_ERR_NOMEM;
    qk_session_free(s);
    if (rc == 0 && out_ref) {
        if (!*out_ref)
            *out_ref = strdup(out.data);
        else if (strcmp(*out_ref, out.data) != 0)
            rc = -100;
    }
    qk_buf_free(&out);
    return rc;
}

typedef struct ctx {
    qk_buf log;
} ctx;

static void c_event(qk_session *s, qk_json *ev, void *opaque)
{
    (void)s;
    ctx *c = opaque;
    qk_buf_append_str(&c->log, "event ");
    qk_json_write(&c->log, ev, 0);
    qk_buf_append_char(&c->log, '\n');
}

static void c_error(qk_session *s, const qk_error *err, qk_json *msg,
                    void *opaque)
{
    (void)s;
    (void)msg;
    ctx *c = opaque;
    qk_buf_printf(&c->log, "error %s\n", qk_error_get_desc(err));
}

static void c_ready(qk_session *s, int status, const qk_error *err,
                    void *opaque)
{
    (void)s;
    (void)err;
    qk_buf_printf(&((ctx *)opaque)->log, "ready %d\n", status);
}

static ctx *cur;

static void c_reply(qk_session *s, int status, qk_json *ret,
                    const qk_error *err, void *opaque)
{
    (void)s;
    qk_buf_printf(&cur->log, "reply %d %d ", (int)(intptr_t)opaque, status);
    if (ret)
        qk_json_write(&cur->log, ret, 0);
    if (err)
        qk_buf_append_str(&cur->log, qk_error_get_desc(err));
    qk_buf_append_char(&cur->log, '\n');
}

static int client_op(void *arg)
{
    char **out_ref = arg;
    ctx c = {QK_BUF_INIT};
    cur = &c;
    qk_client_config cfg = {0};
    cfg.flags = QK_CLIENT_WANT_OOB;
    cfg.on_event = c_event;
    cfg.on_error = c_error;
    cfg.on_ready = c_ready;
    cfg.opaque = &c;
    qk_session *s;
    int rc = qk_session_new_client(&cfg, &s);
    if (rc < 0)
        return rc;
    for (int i = 1; rc == 0 && i <= 12; i++) {
        qk_json *args = qk_json_pack("{s:i, s:[s]}", "n", i, "l", "x");
        rc = args ? qk_session_call(s, i % 2 ? "a" : "b", args,
                                    i % 4 == 0 ? QK_CALL_OOB : 0, NULL, 0,
                                    c_reply, (void *)(intptr_t)i, NULL)
                  : QK_ERR_NOMEM;
    }
    size_t used;
    if (rc == 0)
        rc = qk_session_feed(s, client_in.data, client_in.len, NULL, 0,
                             &used);
    qk_buf out = QK_BUF_INIT;
    if (pu_drain(s, &out) < 0)
        rc = QK_ERR_NOMEM;
    if (rc == 0 && qk_session_in_flight(s) != 0)
        rc = -101;
    qk_session_free(s);
    if (rc == 0 && c.log.data && out_ref) {
        qk_buf_append_str(&c.log, out.data);
        if (!*out_ref)
            *out_ref = strdup(c.log.data);
        else if (strcmp(*out_ref, c.log.data) != 0)
            rc = -100;
    }
    qk_buf_free(&out);
    qk_buf_free(&c.log);
    cur = NULL;
    return rc;
}

static void test_server_alloc_fail(void **state)
{
    (void)state;
    assert_int_equal(server_op(&server_ref), 0);
    long runs = tu_alloc_fail_loop(server_op, &server_ref);
    printf("server: %ld allocation-failure runs, %zu bytes of input\n",
           runs, server_in.len);
    assert_true(runs > 100);
}

static void test_client_alloc_fail(void **state)
{
    (void)state;
    assert_int_equal(client_op(&client_ref), 0);
    assert_non_null(strstr(client_ref, "ready 0"));
    long runs = tu_alloc_fail_loop(client_op, &client_ref);
    printf("client: %ld allocation-failure runs, %zu bytes of input\n", runs,
           client_in.len);
    assert_true(runs > 100);
}

int main(void)
{
    build_inputs();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_alloc_fail),
        cmocka_unit_test(test_client_alloc_fail),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qk_buf_free(&server_in);
    qk_buf_free(&client_in);
    free(server_ref);
    free(client_ref);
    return rc;
}
