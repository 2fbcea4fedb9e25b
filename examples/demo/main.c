/* SPDX-License-Identifier: MIT */
/*
 * qmp-demo: a toy machine with a QMP control socket, built on qk_server.
 * Its schema is examples/demo/demo.json (and qga.json for --qga); the
 * handlers below are registered in a qk_command_table by hand and check
 * their arguments the way QEMU's generated marshallers do (same error
 * texts), until generated marshallers replace that part.
 *
 *   qmp-demo [--socket PATH] [--tcp HOST:PORT] [--stdio] [--pretty]
 *            [--qga] [--verbose]
 *
 * Without --socket, --tcp or --stdio it uses descriptors passed by systemd
 * socket activation. SIGINT and SIGTERM stop it cleanly, as does `quit`.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qmpkit/server.h"

/* ---- argument checks, QEMU's wording ---- */

enum { A_STR, A_BOOL, A_INT, A_U8, A_U32, A_U64, A_ANY, A_STRLIST };

typedef struct arg {
    const char *name;
    int type;
    bool optional;
} arg;

static const char *type_word(int t)
{
    switch (t) {
    case A_STR:
        return "string";
    case A_BOOL:
        return "boolean";
    case A_STRLIST:
        return "array";
    default:
        return "integer";
    }
}

static bool check_one(qk_json *v, const arg *a, qk_error **errp)
{
    bool ok;
    switch (a->type) {
    case A_STR:
        ok = qk_json_is_string(v);
        break;
    case A_BOOL:
        ok = qk_json_is_bool(v);
        break;
    case A_STRLIST:
        ok = qk_json_is_array(v);
        break;
    case A_ANY:
        return true;
    default:
        ok = qk_json_is_integer(v);
        break;
    }
    if (!ok) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "Invalid parameter type for '%s', expected: %s",
                      a->name, type_word(a->type));
        return false;
    }
    if (a->type == A_U8 || a->type == A_U32) {
        uint64_t u;
        int64_t i;
        if (qk_json_get_uint64(v, &u) < 0) {
            qk_json_get_int64(v, &i);
            u = (uint64_t)i;
        }
        if (u > (a->type == A_U8 ? 0xffu : 0xffffffffu)) {
            qk_error_setg(errp, QK_ERROR_GENERIC, "Parameter '%s' expects %s",
                          a->name, a->type == A_U8 ? "uint8_t" : "uint32_t");
            return false;
        }
    }
    if (a->type == A_STRLIST) {
        for (size_t i = 0; i < qk_json_array_size(v); i++) {
            if (!qk_json_is_string(qk_json_array_get(v, i))) {
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "Invalid parameter type for '%s[%zu]', "
                              "expected: string", a->name, i);
                return false;
            }
        }
    }
    return true;
}

/* Checks members in schema order, then rejects unknown ones. */
static bool check_args(qk_json *args, const arg *spec, qk_error **errp)
{
    size_t n = 0;
    for (const arg *a = spec; a->name; a++, n++) {
        qk_json *v = qk_json_object_get(args, a->name);
        if (!v) {
            if (a->optional)
                continue;
            qk_error_setg(errp, QK_ERROR_GENERIC, "Parameter '%s' is missing",
                          a->name);
            return false;
        }
        if (!check_one(v, a, errp))
            return false;
    }
    for (size_t i = 0; i < qk_json_object_size(args); i++) {
        const char *k = qk_json_object_key_at(args, i, NULL);
        bool known = false;
        for (const arg *a = spec; a->name; a++)
            known |= strcmp(a->name, k) == 0;
        if (!known) {
            qk_error_setg(errp, QK_ERROR_GENERIC, "Parameter '%s' is unexpected",
                          k);
            return false;
        }
    }
    return true;
}

static const arg no_args[] = {{NULL, 0, false}};

static const char *str_arg(qk_json *args, const char *name)
{
    qk_json *v = qk_json_object_get(args, name);
    return v ? qk_json_string(v) : NULL;
}

/* ---- the machine ---- */

typedef struct device {
    char *id;
    char *kind;
    char *detail;
    struct device *next;
} device;

typedef struct machine {
    pthread_mutex_t mu;
    bool running;
    bool shutdown;
    uint64_t memory;
    device *devices;
} machine;

static machine m = {PTHREAD_MUTEX_INITIALIZER, true, false, 128 << 20, NULL};

static void emit(const char *name, qk_json *data)
{
    qk_server_emit(qk_server_current(), name, data);
}

static void cmd_query_status(qk_json *args, qk_json **ret, qk_error **errp,
                             void *op)
{
    (void)op;
    if (!check_args(args, no_args, errp))
        return;
    pthread_mutex_lock(&m.mu);
    const char *st = m.shutdown ? "shutdown" : m.running ? "running" : "paused";
    *ret = qk_json_pack("{s:b, s:b, s:s}", "running", (int)m.running,
                        "singlestep", 0, "status", st);
    pthread_mutex_unlock(&m.mu);
}

static void cmd_stop(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)ret, (void)op;
    if (!check_args(args, no_args, errp))
        return;
    pthread_mutex_lock(&m.mu);
    bool was = m.running;
    m.running = false;
    pthread_mutex_unlock(&m.mu);
    if (was)
        emit("STOP", NULL);
}

static void cmd_cont(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)ret, (void)op;
    if (!check_args(args, no_args, errp))
        return;
    pthread_mutex_lock(&m.mu);
    bool was = m.running;
    m.running = true;
    pthread_mutex_unlock(&m.mu);
    if (!was)
        emit("RESUME", NULL);
}

static void cmd_powerdown(qk_json *args, qk_json **ret, qk_error **errp,
                          void *op)
{
    (void)ret, (void)op;
    if (!check_args(args, no_args, errp))
        return;
    emit("POWERDOWN", NULL);
}

static void cmd_quit(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)ret, (void)op;
    if (!check_args(args, no_args, errp))
        return;
    qk_server_stop(qk_server_current()); /* after this reply is written */
}

static void cmd_ping(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)ret, (void)op;
    check_args(args, no_args, errp);
}

static void cmd_sleep(qk_json *args, qk_json **ret, qk_error **errp, void *op)
{
    (void)ret, (void)op;
    static const arg spec[] = {{"ms", A_U32, false}, {NULL, 0, false}};
    if (!check_args(args, spec, errp))
        return;
    int64_t ms = 0;
    qk_json_get_int64(qk_json_object_get(args, "ms"), &ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static qk_json *device_json(const device *d)
{
    if (d->detail)
        return qk_json_pack("{s:s, s:s, s:s}", "id", d->id, "kind", d->kind,
                            "detail", d->detail);
    return qk_json_pack("{s:s, s:s}", "id", d->id, "kind", d->kind);
}

static void cmd_device_add(qk_json *args, qk_json **ret, qk_error **errp,
                           void *op)
{
    (void)op;
    static const arg base[] = {{"id", A_STR, false}, {"kind", A_STR, false},
                               {NULL, 0, false}};
    static const arg disk[] = {{"id", A_STR, false}, {"kind", A_STR, false},
                               {"path", A_STR, false},
                               {"readonly", A_BOOL, true}, {NULL, 0, false}};
    static const arg nic[] = {{"id", A_STR, false}, {"kind", A_STR, false},
                              {"mac", A_STR, false}, {"queues", A_U8, true},
                              {NULL, 0, false}};
    /* the base first, then the variant the discriminator selects */
    for (const arg *a = base; a->name; a++) {
        qk_json *v = qk_json_object_get(args, a->name);
        if (!v) {
            qk_error_setg(errp, QK_ERROR_GENERIC, "Parameter '%s' is missing",
                          a->name);
            return;
        }
        if (!check_one(v, a, errp))
            return;
    }
    const char *kind = str_arg(args, "kind");
    const arg *spec = strcmp(kind, "disk") == 0 ? disk
                      : strcmp(kind, "nic") == 0 ? nic : NULL;
    if (!spec) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "Parameter 'kind' does not accept value '%s'", kind);
        return;
    }
    if (!check_args(args, spec, errp))
        return;
    const char *id = str_arg(args, "id");
    char detail[256];
    if (spec == disk) {
        qk_json *ro = qk_json_object_get(args, "readonly");
        snprintf(detail, sizeof detail, "%s%s", str_arg(args, "path"),
                 ro && qk_json_get_bool(ro) ? " (read-only)" : "");
    } else {
        int64_t q = 1;
        qk_json *qv = qk_json_object_get(args, "queues");
        if (qv)
            qk_json_get_int64(qv, &q);
        snprintf(detail, sizeof detail, "%s, %" PRId64 " queue%s",
                 str_arg(args, "mac"), q, q == 1 ? "" : "s");
    }
    pthread_mutex_lock(&m.mu);
    for (device *d = m.devices; d; d = d->next) {
        if (strcmp(d->id, id) == 0) {
            pthread_mutex_unlock(&m.mu);
            qk_error_setg(errp, QK_ERROR_GENERIC,
                          "Duplicate device ID '%s'", id);
            return;
        }
    }
    device *d = calloc(1, sizeof *d);
    if (!d || !(d->id = strdup(id)) || !(d->kind = strdup(kind)) ||
        !(d->detail = strdup(detail))) {
        pthread_mutex_unlock(&m.mu);
        if (d) {
            free(d->id);
            free(d->kind);
            free(d);
        }
        qk_error_setg(errp, QK_ERROR_GENERIC, "Out of memory");
        return;
    }
    device **tail = &m.devices;
    while (*tail)
        tail = &(*tail)->next;
    *tail = d;
    *ret = device_json(d);
    pthread_mutex_unlock(&m.mu);
}

static void cmd_device_del(qk_json *args, qk_json **ret, qk_error **errp,
                           void *op)
{
    (void)ret, (void)op;
    static const arg spec[] = {{"id", A_STR, false}, {NULL, 0, false}};
    if (!check_args(args, spec, errp))
        return;
    const char *id = str_arg(args, "id");
    pthread_mutex_lock(&m.mu);
    for (device **p = &m.devices; *p; p = &(*p)->next) {
        if (strcmp((*p)->id, id) == 0) {
            device *d = *p;
            *p = d->next;
            pthread_mutex_unlock(&m.mu);
            emit("DEVICE_DELETED", qk_json_pack("{s:s}", "device", d->id));
            free(d->id);
            free(d->kind);
            free(d->detail);
            free(d);
            return;
        }
    }
    pthread_mutex_unlock(&m.mu);
    qk_error_setg(errp, QK_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found", id);
}

static void cmd_query_devices(qk_json *args, qk_json **ret, qk_error **errp,
                              void *op)
{
    (void)op;
    if (!check_args(args, no_args, errp))
        return;
    qk_json *list = qk_json_array_new();
    pthread_mutex_lock(&m.mu);
    for (device *d = m.devices; d && list; d = d->next)
        qk_json_array_append_take(list, device_json(d));
    pthread_mutex_unlock(&m.mu);
    *ret = list;
}

static void cmd_set_memory(qk_json *args, qk_json **ret, qk_error **errp,
                           void *op)
{
    (void)op;
    static const arg spec[] = {{"size", A_ANY, false}, {NULL, 0, false}};
    if (!check_args(args, spec, errp))
        return;
    qk_json *v = qk_json_object_get(args, "size");
    uint64_t bytes = 0;
    if (qk_json_is_integer(v)) {
        if (qk_json_get_uint64(v, &bytes) < 0) {
            int64_t i = 0;
            qk_json_get_int64(v, &i);
            bytes = (uint64_t)i;
        }
    } else if (qk_json_is_string(v)) {
        const char *s = qk_json_string(v);
        char *end;
        errno = 0;
        unsigned long long n = strtoull(s, &end, 10);
        uint64_t mul = 1;
        if (*end == 'K' || *end == 'k')
            mul = 1024, end++;
        else if (*end == 'M' || *end == 'm')
            mul = 1024 * 1024, end++;
        else if (*end == 'G' || *end == 'g')
            mul = 1024 * 1024 * 1024, end++;
        if (errno || end == s || *end || n > UINT64_MAX / mul) {
            qk_error_setg(errp, QK_ERROR_GENERIC,
                          "Parameter 'size' expects a size like 512M");
            return;
        }
        bytes = n * mul;
    } else {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "Invalid parameter type for 'size', expected: MemSize");
        return;
    }
    pthread_mutex_lock(&m.mu);
    m.memory = bytes;
    pthread_mutex_unlock(&m.mu);
    *ret = qk_json_pack("{s:u}", "bytes", bytes);
}

static void cmd_echo_list(qk_json *args, qk_json **ret, qk_error **errp,
                          void *op)
{
    (void)op;
    static const arg spec[] = {{"items", A_STRLIST, false},
                               {"separator", A_STR, true}, {NULL, 0, false}};
    if (!check_args(args, spec, errp))
        return;
    qk_json *items = qk_json_object_get(args, "items");
    const char *sep = str_arg(args, "separator");
    if (!sep)
        sep = " ";
    qk_buf b = QK_BUF_INIT;
    for (size_t i = 0; i < qk_json_array_size(items); i++) {
        if (i)
            qk_buf_append_str(&b, sep);
        qk_buf_append_str(&b, qk_json_string(qk_json_array_get(items, i)));
    }
    *ret = qk_json_pack("{s:s, s:I}", "joined", b.data ? b.data : "", "count",
                        (int64_t)qk_json_array_size(items));
    qk_buf_free(&b);
}

/* ---- guest agent ---- */

static void cmd_guest_ping(qk_json *args, qk_json **ret, qk_error **errp,
                           void *op)
{
    (void)ret, (void)op;
    check_args(args, no_args, errp);
}

static void cmd_guest_info(qk_json *args, qk_json **ret, qk_error **errp,
                           void *op)
{
    (void)op;
    if (!check_args(args, no_args, errp))
        return;
    static const char *const cmds[] = {"guest-sync-delimited", "guest-sync",
                                       "guest-ping", "guest-info"};
    qk_json *list = qk_json_array_new();
    for (size_t i = 0; list && i < sizeof cmds / sizeof cmds[0]; i++)
        qk_json_array_append_take(list, qk_json_pack(
            "{s:s, s:b, s:b}", "name", cmds[i], "enabled", 1,
            "success-response", 1));
    *ret = qk_json_pack("{s:s, s:o}", "version", "0.1.0",
                        "supported_commands", list);
}

/* ---- main ---- */

static qk_server *the_server;

static void on_signal(int sig)
{
    (void)sig;
    qk_server_stop(the_server);
}

static int verbosity;

static void logger(int level, const char *msg, void *opaque)
{
    (void)opaque;
    if (level <= QK_SRV_LOG_WARNING + verbosity)
        fprintf(stderr, "qmp-demo: %s\n", msg);
}

static void stdio_closed(qk_server *srv, unsigned id, const char *why,
                         void *opaque)
{
    (void)id, (void)why;
    if (*(bool *)opaque)
        qk_server_stop(srv);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: qmp-demo [--socket PATH] [--tcp HOST:PORT] [--stdio]\n"
               "                [--pretty] [--qga] [--verbose]\n");
}

#define ADD(name, fn, fl) rc |= qk_command_table_add(t, name, fn, fl, NULL)

int main(int argc, char **argv)
{
    const char *sock = NULL, *tcp = NULL;
    bool use_stdio = false, pretty = false, qga = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
            sock = argv[++i];
        else if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc)
            tcp = argv[++i];
        else if (strcmp(argv[i], "--stdio") == 0)
            use_stdio = true;
        else if (strcmp(argv[i], "--pretty") == 0)
            pretty = true;
        else if (strcmp(argv[i], "--qga") == 0)
            qga = true;
        else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
            verbosity++;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    qk_command_table *t = qk_command_table_new();
    if (!t)
        return 1;
    int rc = 0;
    if (qga) {
        ADD("guest-ping", cmd_guest_ping, 0);
        ADD("guest-info", cmd_guest_info, 0);
    } else {
        ADD("query-status", cmd_query_status, QK_CMD_ALLOW_PRECONFIG);
        ADD("stop", cmd_stop, 0);
        ADD("cont", cmd_cont, 0);
        ADD("system_powerdown", cmd_powerdown, 0);
        ADD("quit", cmd_quit, 0);
        ADD("ping", cmd_ping, QK_CMD_ALLOW_OOB);
        ADD("sleep", cmd_sleep, 0);
        ADD("device-add", cmd_device_add, 0);
        ADD("device-del", cmd_device_del, 0);
        ADD("query-devices", cmd_query_devices, 0);
        ADD("set-memory", cmd_set_memory, 0);
        ADD("echo-list", cmd_echo_list, 0);
        rc |= qk_server_add_fd_commands(t);
    }
    if (rc) {
        fprintf(stderr, "qmp-demo: cannot build the command table\n");
        return 1;
    }

    qk_server_options o = {0};
    o.session.commands = t;
    o.session.flags = (qga ? QK_SERVER_GUEST_AGENT : QK_SERVER_OOB) |
                      (pretty ? QK_SERVER_PRETTY : 0);
    o.session.version = qk_json_pack(
        "{s:{s:i, s:i, s:i}, s:s}", "qemu", "micro", 0, "minor", 1, "major", 0,
        "package", "qmp-demo (qmpkit)");
    o.log = logger;
    o.on_close = stdio_closed;
    o.opaque = &use_stdio;
    rc = qk_server_new(&o, &the_server);
    qk_command_table_unref(t);
    qk_json_unref(o.session.version);
    if (rc < 0) {
        fprintf(stderr, "qmp-demo: %s\n", qk_strerror(rc));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int listening = 0;
    if (sock) {
        rc = qk_server_listen_unix(the_server, sock, 0);
        if (rc < 0) {
            fprintf(stderr, "qmp-demo: cannot listen on %s: %s\n", sock,
                    strerror(errno));
            goto fail;
        }
        listening++;
    }
    if (tcp) {
        char host[256];
        const char *colon = strrchr(tcp, ':');
        if (!colon || (size_t)(colon - tcp) >= sizeof host) {
            fprintf(stderr, "qmp-demo: --tcp wants HOST:PORT\n");
            goto fail;
        }
        memcpy(host, tcp, (size_t)(colon - tcp));
        host[colon - tcp] = 0;
        unsigned port = 0;
        rc = qk_server_listen_tcp(the_server, host[0] ? host : NULL,
                                  (unsigned)strtoul(colon + 1, NULL, 10),
                                  &port);
        if (rc < 0) {
            fprintf(stderr, "qmp-demo: cannot listen on %s: %s\n", tcp,
                    strerror(errno));
            goto fail;
        }
        if (verbosity)
            fprintf(stderr, "qmp-demo: tcp port %u\n", port);
        listening++;
    }
    if (use_stdio) {
        rc = qk_server_add_connection(the_server, 0, 1, NULL);
        if (rc < 0) {
            fprintf(stderr, "qmp-demo: stdio: %s\n", qk_strerror(rc));
            goto fail;
        }
        listening++;
    }
    rc = qk_server_listen_systemd(the_server);
    if (rc > 0)
        listening += rc;
    if (!listening) {
        usage(stderr);
        goto fail;
    }
    rc = qk_server_run(the_server);
    qk_server_free(the_server);
    while (m.devices) {
        device *d = m.devices;
        m.devices = d->next;
        free(d->id);
        free(d->kind);
        free(d->detail);
        free(d);
    }
    return rc < 0 ? 1 : 0;
fail:
    qk_server_free(the_server);
    return 1;
}
