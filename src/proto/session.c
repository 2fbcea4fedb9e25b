/* SPDX-License-Identifier: MIT */
/*
 * What both roles share: the lock, the JSON stream parser, received file
 * descriptors, and the entry points that route to the role's half.
 */
#include <string.h>

#include "proto/session-int.h"

int qk__session_new(int role, size_t max_message, unsigned max_depth,
                    qk_session **out)
{
    qk_session *s = qk_calloc(1, sizeof *s);
    if (!s)
        return QK_ERR_NOMEM;
    s->role = role;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        qk_free(s);
        return QK_ERR_NOMEM;
    }
    qk_json_parser_config pc = {QK_JSON_QMP, max_message, 0, max_depth};
    s->parser = qk_json_parser_new(&pc);
    if (!s->parser) {
        pthread_mutex_destroy(&s->lock);
        qk_free(s);
        return QK_ERR_NOMEM;
    }
    *out = s;
    return 0;
}

int qk__session_stash_fds(qk_session *s, const int *fds, size_t n)
{
    if (!n)
        return 0;
    if (s->n_in_fds + n > s->c_in_fds) {
        size_t cap = qk_grow_capacity(s->c_in_fds, s->n_in_fds + n);
        int *a = qk_realloc(s->in_fds, cap * sizeof *a);
        if (!a) {
            qk__close_fds((int *)fds, n);
            return QK_ERR_NOMEM;
        }
        s->in_fds = a;
        s->c_in_fds = cap;
    }
    memcpy(s->in_fds + s->n_in_fds, fds, n * sizeof *fds);
    s->n_in_fds += n;
    return 0;
}

void qk_session_free(qk_session *s)
{
    if (!s)
        return;
    if (s->role == QK_ROLE_SERVER)
        qk__server_free(s);
    else
        qk__client_free(s);
    qk_json_parser_free(s->parser);
    qk__output_free(&s->out);
    qk__close_fds(s->in_fds, s->n_in_fds);
    qk_free(s->in_fds);
    pthread_mutex_destroy(&s->lock);
    qk_free(s);
}

int qk_session_feed(qk_session *s, const void *data, size_t len,
                    const int *fds, size_t nfds, size_t *consumed)
{
    size_t dummy;
    if (!consumed)
        consumed = &dummy;
    *consumed = 0;
    if (!s || (!data && len))
        return QK_ERR_INVAL;
    pthread_mutex_lock(&s->lock);
    int rc = qk__session_stash_fds(s, fds, nfds);
    if (rc == 0) {
        if (s->role == QK_ROLE_SERVER)
            rc = qk__server_feed(s, data, len, consumed);
        else
            rc = qk__client_feed(s, data, len, consumed);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

bool qk_session_wants_input(qk_session *s)
{
    if (s->role != QK_ROLE_SERVER)
        return true;
    pthread_mutex_lock(&s->lock);
    bool r = qk__server_wants_input(s);
    pthread_mutex_unlock(&s->lock);
    return r;
}
