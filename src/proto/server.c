/* SPDX-License-Identifier: MIT */
/*
 * The server role: greeting, routing of parsed messages (out of band or
 * into the in-band queue), flow control, handing requests out, replies.
 *
 * Queue rules (QEMU's monitor, checklist 5.7): exec-oob requests are
 * checked and made ready as soon as they are parsed. Everything else,
 * parse errors included, waits in the in-band queue and is taken one at a
 * time, the next only once the previous has been answered, so replies
 * keep request order. Input stops being consumed while the queue is full:
 * one in-band message without OOB (queued or running), 8 queued with OOB.
 * Nothing is dropped (except in the 2018 compatibility mode, which drops a
 * request on a full queue and sends COMMAND_DROPPED, as QEMU 2.12 did).
 */
#include <string.h>
#include <time.h>

#include "proto/session-int.h"

#define BUILTIN_FF_PREFIX (1u << 16)

static qk_json *default_version(void)
{
    return qk_json_pack("{s:{s:i, s:i, s:i}, s:s}", "qemu", "micro", 0,
                        "minor", 1, "major", 0, "package", "qmpkit-0.1.0");
}

static int write_greeting(qk_session *s)
{
    qk_json *caps = qk_json_array_new();
    if (!caps)
        return QK_ERR_NOMEM;
    if (s->oob_offered &&
        qk_json_array_append_take(caps, qk_json_string_new("oob")) < 0) {
        qk_json_unref(caps);
        return QK_ERR_NOMEM;
    }
    qk_json *g = qk_json_pack("{s:{s:O, s:o}}", "QMP", "version", s->version,
                              "capabilities", caps);
    if (!g)
        return QK_ERR_NOMEM;
    int rc = qk__write_msg(s, g);
    qk_json_unref(g);
    return rc;
}

int qk_session_new_server(const qk_server_config *cfg, qk_session **out)
{
    *out = NULL;
    if (!cfg)
        return QK_ERR_INVAL;
    qk_session *s;
    int rc = qk__session_new(QK_ROLE_SERVER, cfg->max_message, cfg->max_depth,
                             &s);
    if (rc < 0)
        return rc;
    s->flags = cfg->flags;
    bool ga = s->flags & QK_SERVER_GUEST_AGENT;
    s->eol = ga ? "\n" : "\r\n";
    s->eol_len = ga ? 1 : 2;
    s->table = qk_command_table_ref(cfg->commands);
    s->schema = qk_json_ref(cfg->schema);
    s->version = cfg->version ? qk_json_ref(cfg->version) : default_version();
    s->oob_offered = !ga && (s->flags & QK_SERVER_OOB);
    s->command_mode = ga;
    if (!s->version)
        rc = QK_ERR_NOMEM;
    else if (!ga)
        rc = write_greeting(s);
    if (rc < 0) {
        qk_session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Releases what r holds, not r itself. */
static void request_clear(struct qk_request *r)
{
    qk_json_unref(r->msg);
    qk_json_unref(r->args);
    qk_error_free(r->err);
    if (r->fds) {
        qk__close_fds(r->fds + r->fd_next, r->nfds - r->fd_next);
        qk_free(r->fds);
    }
}

void qk__request_free(struct qk_request *r)
{
    if (!r)
        return;
    request_clear(r);
    qk_free(r);
}

void qk__request_recycle(qk_session *s, struct qk_request *r)
{
    if (s->spare) {
        qk__request_free(r);
        return;
    }
    request_clear(r);
    memset(r, 0, sizeof *r);
    s->spare = r;
}

static void free_list(struct qk_request *r)
{
    while (r) {
        struct qk_request *n = r->next;
        qk__request_free(r);
        r = n;
    }
}

void qk__server_free(qk_session *s)
{
    free_list(s->oob_head);
    free_list(s->ib_head);
    qk_free(s->spare);
    qk_json_unref(s->empty_args);
    qk_command_table_unref(s->table);
    qk_json_unref(s->version);
    qk_json_unref(s->schema);
}

bool qk__server_wants_input(qk_session *s)
{
    if (s->oob_len >= QK_QUEUE_MAX_OOB)
        return false;
    if (s->oob_enabled)
        return (s->flags & QK_SERVER_COMPAT_2018) ||
               s->ib_len < QK_QUEUE_MAX_OOB;
    return s->ib_len == 0 && !s->ib_running;
}

/* Writes the reply of request r (lock held). ret and err are borrowed. */
static int reply(qk_session *s, struct qk_request *r, const qk_json *ret,
                 const qk_error *err)
{
    if (err) {
        qk_error_class cls = qk_error_get_class(err);
        const char *desc = qk_error_get_desc(err);
        if (!s->command_mode && cls == QK_ERROR_COMMAND_NOT_FOUND)
            desc = "Expecting capabilities negotiation with "
                   "'qmp_capabilities'";
        return qk__write_error(s, cls, desc, r->id);
    }
    unsigned flags = r->cmd ? r->cmd->flags
                            : r->builtin ? r->builtin->flags : 0;
    if (flags & QK_CMD_NO_SUCCESS_RESPONSE)
        return 0;
    s->ff_prefix = flags & BUILTIN_FF_PREFIX;
    int rc = qk__write_return(s, ret, r->id);
    s->ff_prefix = false;
    return rc;
}

/* Answers with an error and frees r (lock held). */
static int fail(qk_session *s, struct qk_request *r, qk_error *err)
{
    int rc = reply(s, r, NULL, err);
    qk_error_free(err);
    qk__request_recycle(s, r);
    return rc;
}

static int send_dropped(qk_session *s, const qk_json *id)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    qk_json *data = qk_json_pack("{s:O, s:s}", "id",
                                 id ? (qk_json *)id : qk_json_null(),
                                 "reason", "queue-full");
    qk_json *ev = data ? qk_event_new("COMMAND_DROPPED", data, now) : NULL;
    int rc = ev ? qk__write_msg(s, ev) : QK_ERR_NOMEM;
    qk_json_unref(ev);
    return rc;
}

static bool routes_oob(qk_session *s, const qk_json *m)
{
    if (!s->oob_enabled || !qk_json_is_object(m))
        return false;
    if (s->flags & QK_SERVER_COMPAT_2018) {
        const qk_json *ctl = qk_json_object_get(m, "control");
        return qk_json_object_get(m, "execute") &&
               qk_json_get_bool(qk_json_object_get(ctl, "run-oob"));
    }
    return qk_json_object_get(m, "exec-oob") &&
           !qk_json_object_get(m, "execute");
}

/* The out-of-band and in-band queues: singly linked, with a length. */
static void queue_push(struct qk_request **head, struct qk_request **tail,
                       size_t *len, struct qk_request *r)
{
    if (*tail)
        (*tail)->next = r;
    else
        *head = r;
    *tail = r;
    (*len)++;
}

/* Takes the first request off a queue that is not empty. */
static struct qk_request *queue_pop(struct qk_request **head,
                                    struct qk_request **tail, size_t *len)
{
    struct qk_request *r = *head;
    *head = r->next;
    if (!*head)
        *tail = NULL;
    (*len)--;
    r->next = NULL;
    return r;
}

/* Routes one parsed message or parse error (lock held). */
static int route(qk_session *s, struct qk_request *r)
{
    if (r->msg && routes_oob(s, r->msg)) {
        /* checked now, answered in turn: a bad OOB request must not
         * overtake a good one before it */
        qk_error *err = NULL;
        if (!qk__request_check(s, r, &err))
            r->err = err;
        r->oob = true;
        queue_push(&s->oob_head, &s->oob_tail, &s->oob_len, r);
        return 0;
    }
    if ((s->flags & QK_SERVER_COMPAT_2018) && s->oob_enabled &&
        s->ib_len >= QK_QUEUE_MAX_OOB) {
        const qk_json *id = qk_json_is_object(r->msg)
                                ? qk_json_object_get(r->msg, "id")
                                : NULL;
        int rc = send_dropped(s, id);
        qk__request_recycle(s, r);
        return rc;
    }
    queue_push(&s->ib_head, &s->ib_tail, &s->ib_len, r);
    return 0;
}

int qk__server_feed(qk_session *s, const char *data, size_t len,
                    size_t *consumed)
{
    size_t pos = 0;
    int ret = 0;
    while (pos < len && qk__server_wants_input(s)) {
        size_t used = 0;
        qk_json *v = NULL;
        qk_json_error e;
        int rc = qk_json_parser_feed(s->parser, data + pos, len - pos, &used,
                                     &v, &e);
        pos += used;
        if (rc == QK_JSON_MORE)
            break;
        struct qk_request *r = s->spare;
        if (r)
            s->spare = NULL;
        else
            r = qk_calloc(1, sizeof *r);
        if (!r) {
            qk_json_unref(v);
            s->lost = true; /* the message cannot even be answered */
            ret = QK_ERR_NOMEM;
        } else {
            r->s = s;
            if (s->n_in_fds) {
                r->fds = s->in_fds;
                r->nfds = s->n_in_fds;
                s->in_fds = NULL;
                s->n_in_fds = s->c_in_fds = 0;
            }
            if (rc == QK_JSON_VALUE) {
                r->msg = v;
            } else if (rc == QK_JSON_ERROR) {
                qk_error_set_str(&r->err, QK_ERROR_GENERIC, e.message,
                                 strnlen(e.message, sizeof e.message));
            } else {
                qk_error_setg(&r->err, QK_ERROR_GENERIC, "out of memory");
                ret = QK_ERR_NOMEM;
            }
            int rc2 = route(s, r);
            if (rc2 < 0)
                ret = rc2;
        }
        if (used == 0 && rc < 0)
            break;
    }
    *consumed = pos;
    return ret;
}

/* ---- handing requests out ---- */

static int run_builtin(qk_session *s, struct qk_request *r)
{
    qk_json *ret = NULL;
    qk_error *err = NULL;
    r->builtin->run(s, r->args, &ret, &err);
    int rc = reply(s, r, ret, err);
    qk_json_unref(ret);
    qk_error_free(err);
    qk__request_recycle(s, r);
    return rc;
}

static struct qk_request *next_locked(qk_session *s, unsigned which)
{
    struct qk_request *r = NULL;
    while (!r && (which & QK_NEXT_OOB) && s->oob_head) {
        r = queue_pop(&s->oob_head, &s->oob_tail, &s->oob_len);
        if (r->err) {
            qk_error *err = r->err;
            r->err = NULL;
            fail(s, r, err);
            r = NULL;
        }
    }
    while (!r && (which & QK_NEXT_INBAND) && !s->ib_running && s->ib_head) {
        r = queue_pop(&s->ib_head, &s->ib_tail, &s->ib_len);
        qk_error *err = r->err;
        r->err = NULL;
        if (err || !qk__request_check(s, r, &err)) {
            fail(s, r, err);
            r = NULL;
        } else if (r->builtin) {
            run_builtin(s, r);
            r = NULL;
        } else {
            s->ib_running = true;
        }
    }
    return r;
}

qk_request *qk_session_next_request(qk_session *s, unsigned which)
{
    if (!s || s->role != QK_ROLE_SERVER)
        return NULL;
    pthread_mutex_lock(&s->lock);
    struct qk_request *r = next_locked(s, which);
    pthread_mutex_unlock(&s->lock);
    return r;
}

const char *qk_request_name(const qk_request *r)
{
    return r->name;
}

qk_json *qk_request_arguments(const qk_request *r)
{
    return r->args;
}

qk_json *qk_request_id(const qk_request *r)
{
    return r->id;
}

bool qk_request_is_oob(const qk_request *r)
{
    return r->oob;
}

qk_command_fn qk_request_handler(const qk_request *r, void **opaque)
{
    if (opaque)
        *opaque = r->cmd ? r->cmd->opaque : NULL;
    return r->cmd ? r->cmd->fn : NULL;
}

size_t qk_request_fd_count(const qk_request *r)
{
    return r->nfds - r->fd_next;
}

int qk_request_take_fd(qk_request *r)
{
    if (r->fd_next >= r->nfds)
        return -1;
    return r->fds[r->fd_next++];
}

/* Answers and recycles r (lock held); ret and err stay the caller's. */
static int complete_locked(qk_session *s, struct qk_request *r,
                           const qk_json *ret, const qk_error *err)
{
    bool lost = s->lost;
    int rc = reply(s, r, err ? NULL : ret, err);
    if (rc < 0 && !err) {
        /* the reply did not fit in memory: say so if we can */
        s->lost = lost;
        qk_error *oom = NULL;
        qk_error_setg(&oom, QK_ERROR_GENERIC, "out of memory");
        reply(s, r, NULL, oom);
        qk_error_free(oom);
    }
    if (!r->oob)
        s->ib_running = false;
    qk__request_recycle(s, r);
    return rc;
}

int qk_request_complete(qk_request *r, qk_json *ret, qk_error *err)
{
    if (!r) {
        qk_json_unref(ret);
        qk_error_free(err);
        return QK_ERR_INVAL;
    }
    qk_session *s = r->s;
    pthread_mutex_lock(&s->lock);
    int rc = complete_locked(s, r, ret, err);
    pthread_mutex_unlock(&s->lock);
    qk_json_unref(ret);
    qk_error_free(err);
    return rc;
}

int qk_session_dispatch(qk_session *s)
{
    if (!s || s->role != QK_ROLE_SERVER)
        return QK_ERR_STATE;
    int n = 0;
    pthread_mutex_lock(&s->lock);
    struct qk_request *r;
    while ((r = next_locked(s, QK_NEXT_ANY))) {
        qk_json *ret = NULL;
        qk_error *err = NULL;
        /* the handler runs unlocked: it may send events */
        pthread_mutex_unlock(&s->lock);
        r->cmd->fn(r->args, &ret, &err, r->cmd->opaque);
        pthread_mutex_lock(&s->lock);
        complete_locked(s, r, ret, err);
        qk_json_unref(ret);
        qk_error_free(err);
        n++;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* The server's name for qk_session_is_ready (either role gives the same
 * answer to both). */
bool qk_session_in_command_mode(qk_session *s)
{
    return qk_session_is_ready(s);
}

bool qk_session_oob_enabled(qk_session *s)
{
    pthread_mutex_lock(&s->lock);
    bool r = s->oob_enabled;
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* ---- events ---- */

qk_json *qk_event_new(const char *name, qk_json *data, int64_t time_us)
{
    int64_t sec = -1, usec = -1;
    if (time_us >= 0) {
        sec = time_us / 1000000;
        usec = time_us % 1000000;
    }
    qk_json *ev = name ? qk_json_pack("{s:{s:I, s:I}, s:s}", "timestamp",
                                      "seconds", sec, "microseconds", usec,
                                      "event", name)
                       : NULL;
    if (!ev) {
        qk_json_unref(data);
        return NULL;
    }
    if (data && qk_json_object_set_take(ev, "data", data) < 0) {
        qk_json_unref(ev);
        return NULL;
    }
    return ev;
}

int qk_session_send_event(qk_session *s, const qk_json *event)
{
    if (!s || s->role != QK_ROLE_SERVER)
        return QK_ERR_STATE;
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    if (s->command_mode && !(s->flags & QK_SERVER_GUEST_AGENT))
        rc = qk__write_msg(s, event);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int qk_session_send_event_text(qk_session *s, const char *text, size_t len)
{
    if (!s || s->role != QK_ROLE_SERVER)
        return QK_ERR_STATE;
    if (!text || (s->flags & QK_SERVER_PRETTY))
        return QK_ERR_INVAL;
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    if (s->command_mode && !(s->flags & QK_SERVER_GUEST_AGENT))
        rc = qk__write_text(s, text, len);
    pthread_mutex_unlock(&s->lock);
    return rc;
}
