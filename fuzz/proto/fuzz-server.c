/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the server role. Byte 0 picks the configuration (OOB
 * offered, guest agent, pretty, 2018 form, negotiate first) and byte 1
 * the chunk size; the rest is the client's byte stream. Requests are
 * completed at once, or (bit 5) held and completed in reverse order, so
 * OOB and in-band interleave. Checks: no crash, no leak, ASCII output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tests/proto/proto-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned f;
    size_t step;
    if (!pu_fuzz_split(&data, &size, &f, &step))
        return 0;
    qk_command_table *t = pu_table();
    if (!t)
        return 0;
    unsigned flags = 0;
    if (f & 1)
        flags |= QK_SERVER_OOB;
    if (f & 2)
        flags |= QK_SERVER_GUEST_AGENT;
    if (f & 4)
        flags |= QK_SERVER_PRETTY;
    if (f & 8)
        flags |= QK_SERVER_COMPAT_2018;
    qk_server_config cfg = {t, flags, NULL, NULL, (f & 0x40) ? 4096 : 0,
                            (f & 0x40) ? 16 : 0};
    qk_session *s;
    if (qk_session_new_server(&cfg, &s) < 0) {
        qk_command_table_unref(t);
        return 0;
    }
    qk_buf out = QK_BUF_INIT;
    if (f & 16) {
        const char *c = "{\"execute\":\"qmp_capabilities\","
                        "\"arguments\":{\"enable\":[\"oob\"]}}";
        pu_run_server(s, c, strlen(c), NULL, 0, &out);
    }
    qk_request *held[64];
    size_t nheld = 0;
    size_t pos = 0;
    int stuck = 0;
    while (pos < size && stuck < 3) {
        size_t n = size - pos < step ? size - pos : step, used = 0;
        qk_session_feed(s, data + pos, n, NULL, 0, &used);
        pos += used;
        qk_request *r;
        while ((r = qk_session_next_request(s, QK_NEXT_ANY))) {
            if ((f & 32) && nheld < 64)
                held[nheld++] = r;
            else
                pu_run(r);
        }
        if (!used) {
            /* held back: finish held requests, newest first */
            while (nheld)
                pu_run(held[--nheld]);
            stuck++;
        } else {
            stuck = 0;
        }
        pu_drain(s, &out);
    }
    while (nheld)
        pu_run(held[--nheld]);
    qk_session_dispatch(s);
    pu_drain(s, &out);
    if (!pu_ascii(out.data, out.len))
        abort();
    qk_buf_free(&out);
    qk_session_free(s);
    qk_command_table_unref(t);
    return 0;
}
