/* SPDX-License-Identifier: MIT */
/*
 * The qmpkit code generator example: handlers for hello.json and a tiny
 * QMP server on stdin/stdout built on the sans-I/O session. Try:
 *
 *   printf '%s\n' '{"execute": "qmp_capabilities"}' \
 *     '{"execute": "say-hello", "arguments": {"name": "world", "lang": "fr"}}' \
 *     '{"execute": "say-hello", "arguments": {"nom": "x"}}' | ./hello
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qapi-commands.h"
#include "qapi-events.h"
#include "qapi-init-commands.h"
#include "qapi-introspect.h"
#include "qmpkit/session.h"

static int greetings;

/* The handler: typed arguments in, a typed result out (ours to allocate
 * with the qk allocator; the marshaller frees it). */
Greeting *qmp_say_hello(const char *name, bool has_lang, Language lang,
                        qk_error **errp)
{
    if (!*name) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "nobody to greet");
        return NULL;
    }
    const char *word = has_lang && lang == LANGUAGE_FR ? "Bonjour" : "Hello";
    Greeting *g = qk_rt_zalloc(sizeof(*g));
    size_t n = strlen(word) + strlen(name) + 3;
    if (g)
        g->message = qk_rt_zalloc(n);
    if (!g || !g->message) {
        qapi_free_Greeting(g);
        qk_error_setg(errp, QK_ERROR_GENERIC, "out of memory");
        return NULL;
    }
    snprintf(g->message, n, "%s, %s", word, name);
    g->count = ++greetings;
    g->has_lang = has_lang;
    g->lang = lang;
    qapi_event_send_greeted(name);
    return g;
}

static qk_session *session;

static void emit(const char *name, qk_json *event, void *opaque)
{
    (void)name;
    (void)opaque;
    qk_session_send_event(session, event);
    qk_json_unref(event);
}

static void flush(void)
{
    const void *data;
    size_t len;
    while (qk_session_output(session, &data, &len, NULL, NULL) == 0 && len) {
        if (fwrite(data, 1, len, stdout) != len)
            return;
        qk_session_output_consume(session, len);
    }
    fflush(stdout);
}

int main(void)
{
    qk_command_table *cmds = qk_command_table_new();
    qk_json *schema = qmp_schema_new();
    if (!cmds || !schema || qmp_init_marshal(cmds))
        return 1;
    qk_server_config cfg = {0};
    cfg.commands = cmds;
    cfg.schema = schema;   /* serves query-qmp-schema */
    if (qk_session_new_server(&cfg, &session))
        return 1;
    qk_event_emitter_set(emit, NULL);
    flush();
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof(buf))) > 0) {
        size_t off = 0;
        while (off < (size_t)n) {
            size_t used = 0;
            qk_session_feed(session, buf + off, (size_t)n - off, NULL, 0, &used);
            off += used;
            qk_session_dispatch(session);
            flush();
            if (!used)
                break;
        }
    }
    qk_event_emitter_set(NULL, NULL);
    qk_session_free(session);
    qk_command_table_unref(cmds);
    qk_json_unref(schema);
    return 0;
}
