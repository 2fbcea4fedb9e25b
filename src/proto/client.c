/* SPDX-License-Identifier: MIT */
/*
 * The client role: reads the greeting, negotiates (asking for "oob" when
 * offered and wanted), sends requests with ids it allocates and matches
 * every reply by id, whatever arrives in between. Events are delivered as
 * soon as they are parsed, in any state. Requests made before negotiation
 * completes are held and sent after it.
 *
 * Guest-agent mode has no greeting; qk_session_guest_sync() resynchronises
 * with guest-sync-delimited: send 0xFF and the sync request, drop input up
 * to the agent's 0xFF sentinel, then drop messages up to the reply that
 * carries our id. An agent that does not echo ids gets its replies matched
 * to the oldest request in flight (an agent answers in order).
 */
#include <string.h>
#include <time.h>

#include "proto/session-int.h"

static uint64_t rng_next(qk_session *s)
{
    /* xorshift64* */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 2685821657736338717ull;
}

int qk_session_new_client(const qk_client_config *cfg, qk_session **out)
{
    *out = NULL;
    if (!cfg)
        return QK_ERR_INVAL;
    qk_session *s;
    int rc = qk__session_new(QK_ROLE_CLIENT, cfg->max_message, cfg->max_depth,
                             &s);
    if (rc < 0)
        return rc;
    s->ccfg = *cfg;
    s->eol = "\n";
    s->eol_len = 1;
    s->next_id = 1;
    s->cstate = (cfg->flags & QK_CLIENT_GUEST_AGENT) ? QK_C_READY
                                                     : QK_C_GREETING;
    s->rng = cfg->seed;
    if (!s->rng) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->rng = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
                 (uint64_t)(uintptr_t)s;
    }
    s->rng |= 1;
    *out = s;
    return 0;
}

static void call_free(qk_call *c)
{
    qk_free(c->name);
    qk_json_unref(c->args);
    if (c->fds) {
        qk__close_fds(c->fds, c->nfds);
        qk_free(c->fds);
    }
    qk_free(c);
}

void qk__client_free(qk_session *s)
{
    for (qk_call *c = s->fl_head, *n; c; c = n) {
        n = c->next;
        call_free(c);
    }
    for (qk_call *c = s->held_head, *n; c; c = n) {
        n = c->next;
        call_free(c);
    }
    qk_free(s->spare_call);
    qk_free(s->hash);
}

/* ---- in-flight set: a list in send order plus a hash on the id ---- */

static void list_append(qk_call **head, qk_call **tail, qk_call *c)
{
    c->next = NULL;
    c->prev = *tail;
    if (*tail)
        (*tail)->next = c;
    else
        *head = c;
    *tail = c;
}

static void list_remove(qk_call **head, qk_call **tail, qk_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        *tail = c->prev;
    c->prev = c->next = NULL;
}

static int hash_grow(qk_session *s)
{
    size_t cap = s->hash_cap ? s->hash_cap * 2 : 64;
    qk_call **h = qk_calloc(cap, sizeof *h);
    if (!h)
        return QK_ERR_NOMEM;
    for (size_t i = 0; i < s->hash_cap; i++) {
        for (qk_call *c = s->hash[i], *n; c; c = n) {
            n = c->hnext;
            size_t b = (uint64_t)c->id & (cap - 1);
            c->hnext = h[b];
            h[b] = c;
        }
    }
    qk_free(s->hash);
    s->hash = h;
    s->hash_cap = cap;
    return 0;
}

static qk_call *hash_find(qk_session *s, int64_t id, bool unlink)
{
    if (!s->hash_cap)
        return NULL;
    qk_call **pp = &s->hash[(uint64_t)id & (s->hash_cap - 1)];
    for (; *pp; pp = &(*pp)->hnext) {
        if ((*pp)->id == id) {
            qk_call *c = *pp;
            if (unlink) {
                *pp = c->hnext;
                c->hnext = NULL;
            }
            return c;
        }
    }
    return NULL;
}

/* Writes the request and moves the call in flight (lock held). On
 * failure the call stays the caller's. */
static int send_call(qk_session *s, qk_call *c, const char *name)
{
    if (s->n_flight + 1 > s->hash_cap && hash_grow(s) < 0)
        return QK_ERR_NOMEM;
    qk_buf *b = &s->out.back;
    size_t mark = b->len;
    bool oob = (c->flags & QK_CALL_OOB) && s->oob_enabled;
    int rc = qk_buf_append_str(b, oob ? "{\"exec-oob\": " : "{\"execute\": ");
    if (rc == 0)
        rc = qk_json_write_string(b, name, strlen(name));
    if (rc == 0 && c->args) {
        rc = qk_buf_append_str(b, ", \"arguments\": ");
        if (rc == 0)
            rc = qk_json_write(b, c->args, 0);
    }
    if (rc == 0) {
        /* ", \"id\": N}\n" without printf: ids are positive */
        char tmp[40], *p = tmp + sizeof tmp;
        *--p = '\n';
        *--p = '}';
        uint64_t v = (uint64_t)c->id;
        do
            *--p = (char)('0' + v % 10);
        while (v /= 10);
        p -= 8;
        memcpy(p, ", \"id\": ", 8);
        rc = qk_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
    }
    if (rc == 0 && c->nfds) {
        /* the fds go with the first byte of this request */
        uint64_t off = s->out.appended;
        rc = qk__output_attach_fds(&s->out, c->fds, c->nfds);
        if (rc == 0) {
            s->out.att[s->out.natt - 1].off = off;
            c->fds = NULL;
            c->nfds = 0;
        }
    }
    rc = qk__output_finish(s, mark, rc);
    if (rc < 0)
        return rc;
    qk_free(c->name);
    c->name = NULL;
    qk_json_unref(c->args);
    c->args = NULL;
    size_t h = (uint64_t)c->id & (s->hash_cap - 1);
    c->hnext = s->hash[h];
    s->hash[h] = c;
    list_append(&s->fl_head, &s->fl_tail, c);
    s->n_flight++;
    return 0;
}

/* Sends the held calls in order (lock held). */
static int flush_held(qk_session *s)
{
    while (s->held_head) {
        qk_call *c = s->held_head;
        list_remove(&s->held_head, &s->held_tail, c);
        s->n_held--;
        int rc = send_call(s, c, c->name);
        if (rc < 0) {
            list_append(&s->held_head, &s->held_tail, c);
            s->n_held++;
            /* keep order: move it back to the front */
            list_remove(&s->held_head, &s->held_tail, c);
            c->next = s->held_head;
            c->prev = NULL;
            if (s->held_head)
                s->held_head->prev = c;
            else
                s->held_tail = c;
            s->held_head = c;
            return rc;
        }
    }
    return 0;
}

/* Calls back with the lock released. */
static void invoke(qk_session *s, qk_call *c, int status, qk_json *ret,
                   const qk_error *err)
{
    pthread_mutex_unlock(&s->lock);
    if (c->cb)
        c->cb(s, status, ret, err, c->opaque);
    pthread_mutex_lock(&s->lock);
    if (s->spare_call || c->name || c->args || c->fds) {
        call_free(c);
    } else {
        memset(c, 0, sizeof *c);
        s->spare_call = c;
    }
}

/* Fails every call in flight (and held ones if held is true). */
static void fail_all(qk_session *s, bool held)
{
    while (s->fl_head) {
        qk_call *c = s->fl_head;
        list_remove(&s->fl_head, &s->fl_tail, c);
        hash_find(s, c->id, true);
        s->n_flight--;
        invoke(s, c, QK_ERR_STATE, NULL, NULL);
    }
    while (held && s->held_head) {
        qk_call *c = s->held_head;
        list_remove(&s->held_head, &s->held_tail, c);
        s->n_held--;
        invoke(s, c, QK_ERR_STATE, NULL, NULL);
    }
}

static void notify_ready(qk_session *s, int status, const qk_error *err)
{
    if (!s->ccfg.on_ready)
        return;
    pthread_mutex_unlock(&s->lock);
    s->ccfg.on_ready(s, status, err, s->ccfg.opaque);
    pthread_mutex_lock(&s->lock);
}

static void notify_error(qk_session *s, const qk_error *err, qk_json *msg)
{
    if (!s->ccfg.on_error)
        return;
    pthread_mutex_unlock(&s->lock);
    s->ccfg.on_error(s, err, msg, s->ccfg.opaque);
    pthread_mutex_lock(&s->lock);
}

/* Builds a qk_error from an error reply's "error" member. */
static qk_error *reply_error(const qk_json *e)
{
    qk_error *err = NULL;
    qk_error_class cls;
    qk_error_class_from_name(qk_json_string(qk_json_object_get(e, "class")),
                             &cls);
    const qk_json *d = qk_json_object_get(e, "desc");
    const char *desc = qk_json_string(d);
    qk_error_set_str(&err, cls, desc ? desc : "", qk_json_string_length(d));
    return err;
}

static int send_caps(qk_session *s, bool oob)
{
    s->caps_id = s->next_id++;
    s->oob_enabled = oob;
    size_t before = s->out.back.len;
    int rc = qk_buf_printf(&s->out.back,
                           "{\"execute\": \"qmp_capabilities\", %s\"id\": "
                           "%lld}\n",
                           oob ? "\"arguments\": {\"enable\": [\"oob\"]}, "
                               : "",
                           (long long)s->caps_id);
    if (rc == 0)
        s->out.appended += s->out.back.len - before;
    return rc;
}

/* Negotiation failed: report status and err (freed here) to on_ready and
 * fail every call in flight or held. */
static void negotiation_failed(qk_session *s, int status, qk_error *err)
{
    s->cstate = QK_C_FAILED;
    notify_ready(s, status, err);
    qk_error_free(err);
    fail_all(s, true);
}

static void on_greeting(qk_session *s, qk_json *m)
{
    if (s->ccfg.on_greeting) {
        pthread_mutex_unlock(&s->lock);
        s->ccfg.on_greeting(s, m, s->ccfg.opaque);
        pthread_mutex_lock(&s->lock);
    }
    bool offered = false;
    const qk_json *caps =
        qk_json_object_get(qk_json_object_get(m, "QMP"), "capabilities");
    for (size_t i = 0; i < qk_json_array_size(caps); i++) {
        const char *c = qk_json_string(qk_json_array_get(caps, i));
        if (c && strcmp(c, "oob") == 0)
            offered = true;
    }
    if (send_caps(s, offered && (s->ccfg.flags & QK_CLIENT_WANT_OOB)) < 0) {
        qk_error *err = NULL;
        qk_error_setg(&err, QK_ERROR_GENERIC, "out of memory");
        negotiation_failed(s, QK_ERR_NOMEM, err);
        return;
    }
    s->cstate = QK_C_NEGOTIATING;
}

static void on_reply(qk_session *s, qk_json *m)
{
    qk_json *idv = qk_json_object_get(m, "id");
    qk_json *ret = qk_json_object_get(m, "return");
    qk_json *errv = qk_json_object_get(m, "error");
    int64_t id = 0;
    bool has_id = idv && qk_json_typeof(idv) == QK_JSON_INT &&
                  qk_json_get_int64(idv, &id) == 0;

    if (s->cstate == QK_C_SYNC_REPLY) {
        int64_t v;
        if (ret && qk_json_typeof(ret) == QK_JSON_INT &&
            qk_json_get_int64(ret, &v) == 0 && v == s->sync_id) {
            s->cstate = QK_C_READY;
            flush_held(s);
            notify_ready(s, 0, NULL);
        }
        return; /* anything else before the sync reply is stale */
    }
    if (s->cstate == QK_C_NEGOTIATING && has_id && id == s->caps_id) {
        if (errv) {
            negotiation_failed(s, QK_ERR_STATE, reply_error(errv));
            return;
        }
        s->cstate = QK_C_READY;
        flush_held(s);
        notify_ready(s, 0, NULL);
        return;
    }
    qk_call *c = NULL;
    if (has_id) {
        c = hash_find(s, id, true);
    } else if (!idv && (s->ccfg.flags & QK_CLIENT_GUEST_AGENT)) {
        c = s->fl_head; /* an agent that does not echo ids */
        if (c)
            hash_find(s, c->id, true);
    } else if (!idv && errv) {
        qk_error *err = reply_error(errv);
        notify_error(s, err, m);
        qk_error_free(err);
        return;
    }
    if (!c)
        return; /* unknown id: dropped, as the spec asks */
    list_remove(&s->fl_head, &s->fl_tail, c);
    s->n_flight--;
    if (errv) {
        qk_error *err = reply_error(errv);
        invoke(s, c, 0, NULL, err);
        qk_error_free(err);
    } else {
        invoke(s, c, 0, ret, NULL);
    }
}

static void on_message(qk_session *s, qk_json *m)
{
    if (!qk_json_is_object(m)) {
        qk_error *err = NULL;
        qk_error_setg(&err, QK_ERROR_GENERIC,
                      "unexpected %s from the server", qk_json_type_name(m));
        notify_error(s, err, m);
        qk_error_free(err);
        return;
    }
    if (qk_json_object_get(m, "event")) {
        if (s->ccfg.on_event) {
            pthread_mutex_unlock(&s->lock);
            s->ccfg.on_event(s, m, s->ccfg.opaque);
            pthread_mutex_lock(&s->lock);
        }
        return;
    }
    if (qk_json_object_get(m, "QMP")) {
        if (s->cstate == QK_C_GREETING)
            on_greeting(s, m);
        return;
    }
    if (qk_json_object_get(m, "return") || qk_json_object_get(m, "error"))
        on_reply(s, m);
}

int qk__client_feed(qk_session *s, const char *data, size_t len,
                    size_t *consumed)
{
    size_t pos = 0;
    int ret = 0;
    while (pos < len) {
        if (s->cstate == QK_C_FAILED) {
            ret = QK_ERR_STATE;
            pos = len;
            break;
        }
        if (s->cstate == QK_C_SYNC_SENTINEL) {
            const char *ff = memchr(data + pos, 0xFF, len - pos);
            if (!ff) {
                pos = len;
                break;
            }
            pos = (size_t)(ff - data) + 1;
            qk_json_parser_reset(s->parser);
            s->cstate = QK_C_SYNC_REPLY;
            continue;
        }
        size_t used = 0;
        qk_json *v = NULL;
        qk_json_error e;
        int rc = qk_json_parser_feed(s->parser, data + pos, len - pos, &used,
                                     &v, &e);
        pos += used;
        if (rc == QK_JSON_MORE)
            break;
        if (rc == QK_JSON_VALUE) {
            on_message(s, v);
            qk_json_unref(v);
        } else if (rc == QK_JSON_ERROR) {
            if (s->cstate != QK_C_SYNC_REPLY) {
                qk_error *err = NULL;
                qk_error_set_str(&err, QK_ERROR_GENERIC, e.message,
                                 strnlen(e.message, sizeof e.message));
                notify_error(s, err, NULL);
                qk_error_free(err);
            }
        } else {
            ret = rc;
            if (used == 0)
                break;
        }
    }
    *consumed = pos;
    return ret;
}

int qk_session_call(qk_session *s, const char *name, qk_json *args,
                    unsigned flags, const int *fds, size_t nfds,
                    qk_reply_fn cb, void *opaque, int64_t *id_out)
{
    int rc = 0;
    qk_call *c = NULL;
    if (!s || s->role != QK_ROLE_CLIENT || !name ||
        (args && !qk_json_is_object(args)) || (nfds && !fds)) {
        rc = QK_ERR_INVAL;
        goto fail_unlocked;
    }
    pthread_mutex_lock(&s->lock);
    c = s->spare_call;
    s->spare_call = NULL;
    pthread_mutex_unlock(&s->lock);
    if (!c)
        c = qk_calloc(1, sizeof *c);
    if (!c) {
        rc = QK_ERR_NOMEM;
        goto fail_unlocked;
    }
    if (nfds) {
        c->fds = qk_malloc(nfds * sizeof *fds);
        if (!c->fds) {
            rc = QK_ERR_NOMEM;
            goto fail_unlocked;
        }
        memcpy(c->fds, fds, nfds * sizeof *fds);
        c->nfds = nfds;
        fds = NULL;
        nfds = 0;
    }
    c->args = args;
    args = NULL;
    c->cb = cb;
    c->opaque = opaque;
    c->flags = flags;

    pthread_mutex_lock(&s->lock);
    if (s->cstate == QK_C_FAILED)
        rc = QK_ERR_STATE;
    else if (s->ccfg.max_in_flight &&
             s->n_flight + s->n_held >= s->ccfg.max_in_flight)
        rc = QK_ERR_LIMIT;
    if (rc == 0) {
        c->id = s->next_id++;
        if (s->cstate == QK_C_READY) {
            rc = send_call(s, c, name);
        } else if (!(c->name = qk_strdup(name))) {
            rc = QK_ERR_NOMEM;
        } else {
            list_append(&s->held_head, &s->held_tail, c);
            s->n_held++;
        }
        if (rc == 0 && id_out)
            *id_out = c->id;
        if (rc < 0)
            s->next_id--;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc == 0)
        return 0;
fail_unlocked:
    if (c)
        call_free(c);
    qk_json_unref(args);
    if (nfds)
        qk__close_fds((int *)fds, nfds);
    return rc;
}

int qk_session_guest_sync(qk_session *s)
{
    if (!s || s->role != QK_ROLE_CLIENT ||
        !(s->ccfg.flags & QK_CLIENT_GUEST_AGENT))
        return QK_ERR_INVAL;
    pthread_mutex_lock(&s->lock);
    int64_t id = (int64_t)(rng_next(s) >> 12); /* fits a double exactly */
    qk_buf *b = &s->out.back;
    size_t mark = b->len;
    int rc = qk_buf_append_char(b, (char)0xFF);
    if (rc == 0)
        rc = qk_buf_printf(b,
                           "{\"execute\": \"guest-sync-delimited\", "
                           "\"arguments\": {\"id\": %lld}}\n",
                           (long long)id);
    if (rc < 0) {
        b->len = mark;
        if (b->data)
            b->data[mark] = 0;
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    s->out.appended += b->len - mark;
    s->sync_id = id;
    s->cstate = QK_C_SYNC_SENTINEL;
    fail_all(s, false);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

bool qk_session_is_ready(qk_session *s)
{
    pthread_mutex_lock(&s->lock);
    bool r = s->role == QK_ROLE_SERVER ? s->command_mode
                                       : s->cstate == QK_C_READY;
    pthread_mutex_unlock(&s->lock);
    return r;
}

size_t qk_session_in_flight(qk_session *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n_flight + s->n_held;
    pthread_mutex_unlock(&s->lock);
    return n;
}
