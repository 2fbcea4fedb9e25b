/* SPDX-License-Identifier: MIT */
/*
 * Per-event rate limiting as QEMU's monitor does it (checklist 5.8): for a
 * throttled event name, at most one message per period and key. The first
 * goes out at once and opens a period; events arriving during the period
 * replace each other; when the period ends the held one (with its original
 * timestamp) goes out and a new period starts, else the key is forgotten.
 * The clock is an argument, so the behaviour is deterministic under test.
 */
#include <string.h>

#include "proto/session-int.h"

typedef struct rule {
    char *event;
    char *key_member;
    int64_t period;
} rule;

typedef struct tstate {
    char *key; /* "EVENT\nKEYVALUE" */
    int64_t expiry;
    qk_json *held;
    struct tstate *next;
} tstate;

struct qk_event_throttle {
    pthread_mutex_t lock;
    qk_event_sink sink;
    void *opaque;
    rule *rules;
    size_t nrules, crules;
    tstate *states;
};

int qk_event_throttle_new(qk_event_sink sink, void *opaque,
                          qk_event_throttle **out)
{
    *out = NULL;
    if (!sink)
        return QK_ERR_INVAL;
    qk_event_throttle *t = qk_calloc(1, sizeof *t);
    if (!t)
        return QK_ERR_NOMEM;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        qk_free(t);
        return QK_ERR_NOMEM;
    }
    t->sink = sink;
    t->opaque = opaque;
    *out = t;
    return 0;
}

static void state_free(tstate *st)
{
    qk_json_unref(st->held);
    qk_free(st->key);
    qk_free(st);
}

void qk_event_throttle_free(qk_event_throttle *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrules; i++) {
        qk_free(t->rules[i].event);
        qk_free(t->rules[i].key_member);
    }
    qk_free(t->rules);
    while (t->states) {
        tstate *n = t->states->next;
        state_free(t->states);
        t->states = n;
    }
    pthread_mutex_destroy(&t->lock);
    qk_free(t);
}

static rule *find_rule(qk_event_throttle *t, const char *event)
{
    for (size_t i = 0; i < t->nrules; i++)
        if (strcmp(t->rules[i].event, event) == 0)
            return &t->rules[i];
    return NULL;
}

int qk_event_throttle_set(qk_event_throttle *t, const char *event,
                          int64_t period_us, const char *key_member)
{
    if (!t || !event || period_us < 0)
        return QK_ERR_INVAL;
    char *km = NULL;
    if (key_member && !(km = qk_strdup(key_member)))
        return QK_ERR_NOMEM;
    pthread_mutex_lock(&t->lock);
    int rc = 0;
    rule *r = find_rule(t, event);
    if (!r) {
        char *ev = qk_strdup(event);
        if (ev && t->nrules == t->crules) {
            size_t cap = qk_grow_capacity(t->crules, t->nrules + 1);
            rule *a = qk_realloc(t->rules, cap * sizeof *a);
            if (a) {
                t->rules = a;
                t->crules = cap;
            }
        }
        if (!ev || t->nrules == t->crules) {
            qk_free(ev);
            qk_free(km);
            rc = QK_ERR_NOMEM;
        } else {
            r = &t->rules[t->nrules++];
            r->event = ev;
            r->key_member = NULL;
        }
    }
    if (r) {
        qk_free(r->key_member);
        r->key_member = km;
        r->period = period_us;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int qk_event_throttle_set_qemu_defaults(qk_event_throttle *t)
{
    static const struct {
        const char *event, *key;
    } conf[] = {
        {"RTC_CHANGE", NULL},
        {"BLOCK_IO_ERROR", "qom-path"},
        {"WATCHDOG", NULL},
        {"BALLOON_CHANGE", NULL},
        {"QUORUM_REPORT_BAD", "node-name"},
        {"QUORUM_FAILURE", NULL},
        {"VSERPORT_CHANGE", "id"},
        {"MEMORY_DEVICE_SIZE_CHANGE", "qom-path"},
        {"HV_BALLOON_STATUS_REPORT", NULL},
    };
    for (size_t i = 0; i < sizeof conf / sizeof conf[0]; i++) {
        int rc = qk_event_throttle_set(t, conf[i].event, 1000000,
                                       conf[i].key);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int qk_event_throttle_emit(qk_event_throttle *t, qk_json *event,
                           int64_t now_us)
{
    const char *name = qk_json_string(qk_json_object_get(event, "event"));
    if (!t || !name) {
        qk_json_unref(event);
        return QK_ERR_INVAL;
    }
    pthread_mutex_lock(&t->lock);
    int rc = 0;
    rule *r = find_rule(t, name);
    if (!r || r->period == 0) {
        t->sink(event, t->opaque);
        qk_json_unref(event);
        goto out;
    }
    const char *kv = "";
    if (r->key_member) {
        const qk_json *d = qk_json_object_get(event, "data");
        const char *v = qk_json_string(qk_json_object_get(d, r->key_member));
        if (v)
            kv = v;
    }
    qk_buf key = QK_BUF_INIT;
    if (qk_buf_printf(&key, "%s\n%s", name, kv) < 0) {
        qk_json_unref(event);
        rc = QK_ERR_NOMEM;
        goto out;
    }
    tstate *st = t->states;
    while (st && strcmp(st->key, key.data) != 0)
        st = st->next;
    if (st) {
        qk_json_unref(st->held);
        st->held = event;
        qk_buf_free(&key);
        goto out;
    }
    st = qk_calloc(1, sizeof *st);
    if (!st) {
        /* cannot remember the period: send anyway rather than lose it */
        t->sink(event, t->opaque);
        qk_json_unref(event);
        qk_buf_free(&key);
        rc = QK_ERR_NOMEM;
        goto out;
    }
    st->key = qk_buf_steal(&key, NULL);
    st->expiry = now_us + r->period;
    st->next = t->states;
    t->states = st;
    t->sink(event, t->opaque);
    qk_json_unref(event);
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int qk_event_throttle_tick(qk_event_throttle *t, int64_t now_us)
{
    pthread_mutex_lock(&t->lock);
    tstate **pp = &t->states;
    while (*pp) {
        tstate *st = *pp;
        if (st->expiry > now_us) {
            pp = &st->next;
            continue;
        }
        if (st->held) {
            t->sink(st->held, t->opaque);
            qk_json_unref(st->held);
            st->held = NULL;
            const char *name = st->key; /* up to the \n */
            size_t nlen = strcspn(name, "\n");
            int64_t period = 0;
            for (size_t i = 0; i < t->nrules; i++)
                if (strlen(t->rules[i].event) == nlen &&
                    memcmp(t->rules[i].event, name, nlen) == 0)
                    period = t->rules[i].period;
            st->expiry = now_us + period;
            pp = &st->next;
        } else {
            *pp = st->next;
            state_free(st);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return 0;
}

int64_t qk_event_throttle_deadline(qk_event_throttle *t)
{
    pthread_mutex_lock(&t->lock);
    int64_t d = -1;
    for (tstate *st = t->states; st; st = st->next)
        if (d < 0 || st->expiry < d)
            d = st->expiry;
    pthread_mutex_unlock(&t->lock);
    return d;
}
