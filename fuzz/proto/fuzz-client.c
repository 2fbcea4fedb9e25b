/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the client role. Byte 0 picks the configuration (want
 * OOB, guest agent, sync first, small limits) and byte 1 the chunk size;
 * the rest is the server's byte stream. A few requests are made before
 * and while input arrives. Checks: no crash, no leak, every callback of a
 * request fires at most once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tests/proto/proto-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fired[64];

static void reply(qk_session *s, int status, qk_json *ret,
                  const qk_error *err, void *opaque)
{
    (void)s;
    (void)status;
    (void)ret;
    (void)err;
    int i = (int)(intptr_t)opaque;
    if (fired[i]++)
        abort();
}

static void event(qk_session *s, qk_json *ev, void *opaque)
{
    (void)s;
    (void)opaque;
    if (!qk_json_object_get(ev, "event"))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned f;
    size_t step;
    if (!pu_fuzz_split(&data, &size, &f, &step))
        return 0;
    qk_client_config cfg = {0};
    if (f & 1)
        cfg.flags |= QK_CLIENT_WANT_OOB;
    if (f & 2)
        cfg.flags |= QK_CLIENT_GUEST_AGENT;
    if (f & 8) {
        cfg.max_message = 4096;
        cfg.max_depth = 16;
        cfg.max_in_flight = 4;
    }
    cfg.on_event = event;
    cfg.seed = 1;
    qk_session *s;
    if (qk_session_new_client(&cfg, &s) < 0)
        return 0;
    memset(fired, 0, sizeof fired);
    int calls = 0;
    if ((f & 4) && (f & 2))
        qk_session_guest_sync(s);
    for (; calls < 4; calls++)
        qk_session_call(s, "a", NULL, calls & 1 ? QK_CALL_OOB : 0, NULL, 0,
                        reply, (void *)(intptr_t)calls, NULL);
    qk_buf out = QK_BUF_INIT;
    for (size_t pos = 0; pos < size;) {
        size_t n = size - pos < step ? size - pos : step, used = 0;
        qk_session_feed(s, data + pos, n, NULL, 0, &used);
        pos += n;
        if (calls < 64)
            qk_session_call(s, "b", NULL, 0, NULL, 0, reply,
                            (void *)(intptr_t)calls++, NULL);
        if ((f & 16) && (f & 2) && pos < size && data[pos] == 'S')
            qk_session_guest_sync(s);
        pu_drain(s, &out);
    }
    qk_buf_free(&out);
    qk_session_free(s);
    return 0;
}
