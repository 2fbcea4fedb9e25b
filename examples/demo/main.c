/* SPDX-License-Identifier: MIT */
/*
 * qmp-demo: a toy machine with a QMP control socket, built on qk_server.
 * Its schema is examples/demo/demo.json (and qga.json for --qga):
 * qapi-gen generates the types, the marshallers that check arguments with
 * QEMU's error texts, their registration, the event emitters and the
 * introspection data (query-qmp-schema); this file has the handlers.
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

#include "qapi-commands.h"
#include "qapi-events.h"
#include "qapi-init-commands.h"
#include "qapi-introspect.h"
#include "qga-qapi-commands.h"
#include "qga-qapi-init-commands.h"
#include "qmpkit/rt.h"
#include "qmpkit/server.h"

/* ---- the machine ---- */

typedef struct device {
    char *id;
    DeviceKind kind;
    char *detail;
    struct device *next;
} device;

typedef struct machine {
    pthread_mutex_t mu;
    bool running;
    uint64_t memory;
    device *devices;
} machine;

static machine m = {PTHREAD_MUTEX_INITIALIZER, true, 128 << 20, NULL};

static void *nomem(qk_error **errp)
{
    qk_error_setg(errp, QK_ERROR_GENERIC, "Out of memory");
    return NULL;
}

/* The handlers: typed arguments in (checked by the generated
 * marshallers), typed results out (allocated with qk_rt_zalloc; the
 * marshaller frees them). */

StatusInfo *qmp_query_status(qk_error **errp)
{
    StatusInfo *st = qk_rt_zalloc(sizeof(*st));
    if (!st)
        return nomem(errp);
    pthread_mutex_lock(&m.mu);
    st->running = m.running;
    st->singlestep = false;
    st->status = m.running ? RUN_STATE_RUNNING : RUN_STATE_PAUSED;
    pthread_mutex_unlock(&m.mu);
    return st;
}

void qmp_stop(qk_error **errp)
{
    (void)errp;
    pthread_mutex_lock(&m.mu);
    bool was = m.running;
    m.running = false;
    pthread_mutex_unlock(&m.mu);
    if (was)
        qapi_event_send_stop();
}

void qmp_cont(qk_error **errp)
{
    (void)errp;
    pthread_mutex_lock(&m.mu);
    bool was = m.running;
    m.running = true;
    pthread_mutex_unlock(&m.mu);
    if (!was)
        qapi_event_send_resume();
}

void qmp_system_powerdown(qk_error **errp)
{
    (void)errp;
    qapi_event_send_powerdown();
}

void qmp_quit(qk_error **errp)
{
    (void)errp;
    qk_server_stop(qk_server_current()); /* after this reply is written */
}

void qmp_ping(qk_error **errp)
{
    (void)errp;
}

void qmp_sleep(uint32_t ms, qk_error **errp)
{
    (void)errp;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static DeviceInfo *device_info(const device *d)
{
    DeviceInfo *i = qk_rt_zalloc(sizeof(*i));
    if (!i)
        return NULL;
    i->id = qk_rt_strdup(d->id);
    i->kind = d->kind;
    i->detail = qk_rt_strdup(d->detail);
    if (!i->id || !i->detail) {
        qapi_free_DeviceInfo(i);
        return NULL;
    }
    return i;
}

DeviceInfo *qmp_device_add(DeviceSpec *arg, qk_error **errp)
{
    char detail[256];
    if (arg->kind == DEVICE_KIND_DISK)
        snprintf(detail, sizeof detail, "%s%s", arg->u.disk.path,
                 arg->u.disk.has_readonly && arg->u.disk.readonly
                 ? " (read-only)" : "");
    else
        snprintf(detail, sizeof detail, "%s, %u queue%s", arg->u.nic.mac,
                 arg->u.nic.has_queues ? arg->u.nic.queues : 1,
                 arg->u.nic.has_queues && arg->u.nic.queues != 1 ? "s" : "");
    pthread_mutex_lock(&m.mu);
    for (device *d = m.devices; d; d = d->next) {
        if (strcmp(d->id, arg->id) == 0) {
            pthread_mutex_unlock(&m.mu);
            qk_error_setg(errp, QK_ERROR_GENERIC, "Duplicate device ID '%s'",
                          arg->id);
            return NULL;
        }
    }
    device *d = calloc(1, sizeof *d);
    if (!d || !(d->id = strdup(arg->id)) || !(d->detail = strdup(detail))) {
        pthread_mutex_unlock(&m.mu);
        if (d)
            free(d->id);
        free(d);
        return nomem(errp);
    }
    d->kind = arg->kind;
    device **tail = &m.devices;
    while (*tail)
        tail = &(*tail)->next;
    *tail = d;
    DeviceInfo *info = device_info(d);
    pthread_mutex_unlock(&m.mu);
    return info ? info : nomem(errp);
}

void qmp_device_del(const char *id, qk_error **errp)
{
    pthread_mutex_lock(&m.mu);
    for (device **p = &m.devices; *p; p = &(*p)->next) {
        if (strcmp((*p)->id, id) == 0) {
            device *d = *p;
            *p = d->next;
            pthread_mutex_unlock(&m.mu);
            qapi_event_send_device_deleted(d->id);
            free(d->id);
            free(d->detail);
            free(d);
            return;
        }
    }
    pthread_mutex_unlock(&m.mu);
    qk_error_setg(errp, QK_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found", id);
}

DeviceInfoList *qmp_query_devices(qk_error **errp)
{
    DeviceInfoList *head = NULL, **tail = &head;
    pthread_mutex_lock(&m.mu);
    for (device *d = m.devices; d; d = d->next) {
        DeviceInfoList *e = qk_rt_zalloc(sizeof(*e));
        if (!e || !(e->value = device_info(d))) {
            pthread_mutex_unlock(&m.mu);
            qapi_free_DeviceInfoList(e);
            qapi_free_DeviceInfoList(head);
            return nomem(errp);
        }
        *tail = e;
        tail = &e->next;
    }
    pthread_mutex_unlock(&m.mu);
    return head;
}

MemoryInfo *qmp_set_memory(MemSize *size, qk_error **errp)
{
    uint64_t bytes;
    if (size->type == QTYPE_QNUM) {
        bytes = size->u.bytes;
    } else {
        unsigned shift = size->u.spec.unit == MEM_UNIT_KIB ? 10
                         : size->u.spec.unit == MEM_UNIT_MIB ? 20 : 30;
        if (size->u.spec.value > (UINT64_MAX >> shift)) {
            qk_error_setg(errp, QK_ERROR_GENERIC,
                          "Parameter 'size' is too large");
            return NULL;
        }
        bytes = size->u.spec.value << shift;
    }
    MemoryInfo *mi = qk_rt_zalloc(sizeof(*mi));
    if (!mi)
        return nomem(errp);
    pthread_mutex_lock(&m.mu);
    m.memory = bytes;
    pthread_mutex_unlock(&m.mu);
    mi->bytes = bytes;
    return mi;
}

EchoResult *qmp_echo_list(strList *items, const char *separator,
                          qk_error **errp)
{
    qk_buf b = QK_BUF_INIT;
    int64_t n = 0;
    for (strList *i = items; i; i = i->next, n++) {
        if (n)
            qk_buf_append_str(&b, separator ? separator : " ");
        qk_buf_append_str(&b, i->value);
    }
    EchoResult *r = qk_rt_zalloc(sizeof(*r));
    if (r)
        r->joined = qk_rt_strdup(b.data ? b.data : "");
    qk_buf_free(&b);
    if (!r || !r->joined) {
        qapi_free_EchoResult(r);
        return nomem(errp);
    }
    r->count = n;
    return r;
}

/* ---- guest agent (qga.json) ---- */

void qmp_guest_ping(qk_error **errp)
{
    (void)errp;
}

int64_t qmp_guest_sync(int64_t id, qk_error **errp)
{
    (void)errp;
    return id; /* the engine answers guest-sync itself; kept for the table */
}

int64_t qmp_guest_sync_delimited(int64_t id, qk_error **errp)
{
    (void)errp;
    return id;
}

GuestAgentInfo *qmp_guest_info(qk_error **errp)
{
    static const char *const cmds[] = {"guest-sync-delimited", "guest-sync",
                                       "guest-ping", "guest-info"};
    GuestAgentInfo *info = qk_rt_zalloc(sizeof(*info));
    if (!info || !(info->version = qk_rt_strdup("0.1.0"))) {
        qapi_free_GuestAgentInfo(info);
        return nomem(errp);
    }
    GuestAgentCommandInfoList **tail = &info->supported_commands;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        GuestAgentCommandInfoList *e = qk_rt_zalloc(sizeof(*e));
        GuestAgentCommandInfo *c = qk_rt_zalloc(sizeof(*c));
        if (!e || !c || !(c->name = qk_rt_strdup(cmds[i]))) {
            qapi_free_GuestAgentCommandInfo(c);
            qapi_free_GuestAgentCommandInfoList(e);
            qapi_free_GuestAgentInfo(info);
            return nomem(errp);
        }
        c->enabled = true;
        c->success_response = true;
        e->value = c;
        *tail = e;
        tail = &e->next;
    }
    return info;
}

/* ---- main ---- */

static qk_server *the_server;

/* Events from qapi_event_send_*() go to every negotiated session. */
static void emit_event(const char *name, qk_json *event, void *opaque)
{
    (void)name;
    qk_server_broadcast(opaque, event);
    qk_json_unref(event);
}

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
    int rc = qga ? qga_qmp_init_marshal(t) : qmp_init_marshal(t);
    if (rc == 0 && !qga)
        rc = qk_server_add_fd_commands(t);
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
    o.session.schema = qga ? NULL : qmp_schema_new();
    o.log = logger;
    o.on_close = stdio_closed;
    o.opaque = &use_stdio;
    rc = qk_server_new(&o, &the_server);
    qk_command_table_unref(t);
    qk_json_unref(o.session.version);
    qk_json_unref(o.session.schema);
    if (rc < 0) {
        fprintf(stderr, "qmp-demo: %s\n", qk_strerror(rc));
        return 1;
    }
    qk_event_emitter_set(emit_event, the_server);
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
        free(d->detail);
        free(d);
    }
    return rc < 0 ? 1 : 0;
fail:
    qk_server_free(the_server);
    return 1;
}
