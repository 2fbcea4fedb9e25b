/* SPDX-License-Identifier: MIT */
/*
 * Pending output of a session and the writers of QMP messages.
 *
 * Output is two buffers: the front one is what the transport is writing
 * (its pointer stays valid until consumed, even while another thread
 * completes a request), the back one is appended to. File descriptors to
 * send are pinned to the stream offset of the byte they go with.
 *
 * Replies are written straight into the buffer in QEMU's shapes
 * ({"return": R, "id": I} and {"id": I, "error": {"class": C, "desc": D}})
 * without building a message object, except in pretty mode.
 */
#include <string.h>
#include <unistd.h>

#include "proto/session-int.h"

void qk__close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

void qk__output_free(qk_output *o)
{
    qk_buf_free(&o->front);
    qk_buf_free(&o->back);
    for (size_t i = 0; i < o->natt; i++) {
        qk__close_fds(o->att[i].fds, o->att[i].n);
        qk_free(o->att[i].fds);
    }
    qk_free(o->att);
    memset(o, 0, sizeof *o);
}

int qk__output_attach_fds(qk_output *o, int *fds, size_t n)
{
    if (o->natt == o->catt) {
        size_t cap = qk_grow_capacity(o->catt, o->natt + 1);
        qk_fd_attach *a = qk_realloc(o->att, cap * sizeof *a);
        if (!a)
            return QK_ERR_NOMEM;
        o->att = a;
        o->catt = cap;
    }
    o->att[o->natt++] = (qk_fd_attach){o->appended, fds, n};
    return 0;
}

int qk_session_output(qk_session *s, const void **data, size_t *len,
                      const int **fds, size_t *nfds)
{
    pthread_mutex_lock(&s->lock);
    qk_output *o = &s->out;
    if (o->front_pos == o->front.len && o->back.len) {
        qk_buf t = o->front;
        o->front = o->back;
        o->back = t;
        qk_buf_clear(&o->back);
        o->front_pos = 0;
    }
    size_t n = o->front.len - o->front_pos;
    if (fds) {
        *fds = NULL;
        *nfds = 0;
    }
    for (size_t i = 0; i < o->natt && fds; i++) {
        if (o->att[i].off == o->consumed) {
            *fds = o->att[i].fds;
            *nfds = o->att[i].n;
        } else if (o->att[i].off > o->consumed &&
                   o->att[i].off - o->consumed < n) {
            n = (size_t)(o->att[i].off - o->consumed);
            break;
        }
    }
    *data = n ? o->front.data + o->front_pos : NULL;
    *len = n;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void qk_session_output_consume(qk_session *s, size_t n)
{
    pthread_mutex_lock(&s->lock);
    qk_output *o = &s->out;
    if (n > o->front.len - o->front_pos)
        n = o->front.len - o->front_pos;
    if (n) {
        uint64_t end = o->consumed + n;
        size_t keep = 0;
        for (size_t i = 0; i < o->natt; i++) {
            if (o->att[i].off < end) {
                qk__close_fds(o->att[i].fds, o->att[i].n);
                qk_free(o->att[i].fds);
            } else {
                o->att[keep++] = o->att[i];
            }
        }
        o->natt = keep;
        o->front_pos += n;
        o->consumed = end;
        if (o->front_pos == o->front.len) {
            qk_buf_clear(&o->front);
            o->front_pos = 0;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

size_t qk_session_output_pending(qk_session *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->out.front.len - s->out.front_pos + s->out.back.len;
    pthread_mutex_unlock(&s->lock);
    return n;
}

bool qk_session_output_lost(qk_session *s)
{
    pthread_mutex_lock(&s->lock);
    bool lost = s->lost;
    pthread_mutex_unlock(&s->lock);
    return lost;
}

/* Commits bytes appended to back since mark, or rolls them back (the
 * message is lost). */
int qk__output_finish(qk_session *s, size_t mark, int rc)
{
    qk_buf *b = &s->out.back;
    if (rc < 0) {
        s->lost = s->role == QK_ROLE_SERVER; /* a client's caller is told */
        b->len = mark;
        if (b->data)
            b->data[mark] = 0;
        return rc;
    }
    s->out.appended += b->len - mark;
    return 0;
}

static int append_eol(qk_session *s)
{
    return qk_buf_append(&s->out.back, s->eol, s->eol_len);
}

/* Pretty text with every \n turned into the session's line ending. */
static int write_pretty(qk_session *s, const qk_json *msg)
{
    qk_buf tmp = QK_BUF_INIT;
    int rc = qk_json_write(&tmp, msg, QK_JSON_PRETTY);
    qk_buf *b = &s->out.back;
    for (size_t i = 0; rc == 0 && i < tmp.len; i++) {
        if (tmp.data[i] == '\n')
            rc = append_eol(s);
        else
            rc = qk_buf_append_char(b, tmp.data[i]);
    }
    qk_buf_free(&tmp);
    return rc;
}

int qk__write_msg(qk_session *s, const qk_json *msg)
{
    size_t mark = s->out.back.len;
    int rc;
    if (s->flags & QK_SERVER_PRETTY && s->role == QK_ROLE_SERVER)
        rc = write_pretty(s, msg);
    else
        rc = qk_json_write(&s->out.back, msg, 0);
    if (rc == 0)
        rc = append_eol(s);
    return qk__output_finish(s, mark, rc);
}

int qk__write_text(qk_session *s, const char *text, size_t len)
{
    size_t mark = s->out.back.len;
    int rc = qk_buf_append(&s->out.back, text, len);
    if (rc == 0)
        rc = append_eol(s);
    return qk__output_finish(s, mark, rc);
}

static int write_ff(qk_session *s)
{
    if (!s->ff_prefix)
        return 0;
    return qk_buf_append_char(&s->out.back, (char)0xFF);
}

/* An id: integers (the usual case) without the general writer. */
static int write_id(qk_buf *b, const qk_json *id)
{
    int64_t v;
    if (qk_json_typeof(id) != QK_JSON_INT || qk_json_get_int64(id, &v) < 0)
        return qk_json_write(b, id, 0);
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    return qk_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

int qk__write_return(qk_session *s, const qk_json *ret, const qk_json *id)
{
    qk_buf *b = &s->out.back;
    size_t mark = b->len;
    int rc = write_ff(s);
    if (rc < 0)
        return qk__output_finish(s, mark, rc);
    if (s->flags & QK_SERVER_PRETTY) {
        qk_json *m = qk_json_object_new();
        rc = m ? 0 : QK_ERR_NOMEM;
        if (rc == 0)
            rc = ret ? qk_json_object_set(m, "return", (qk_json *)ret)
                     : qk_json_object_set_take(m, "return",
                                               qk_json_object_new());
        if (rc == 0 && id)
            rc = qk_json_object_set(m, "id", (qk_json *)id);
        if (rc == 0)
            rc = write_pretty(s, m);
        qk_json_unref(m);
    } else {
        rc = qk_buf_reserve(b, 64);
        if (rc == 0) {
            memcpy(b->data + b->len, "{\"return\": ", 11);
            b->len += 11;
            if (ret) {
                rc = qk_json_write(b, ret, 0);
            } else {
                memcpy(b->data + b->len, "{}", 2);
                b->len += 2;
            }
        }
        if (rc == 0 && id) {
            rc = qk_buf_append(b, ", \"id\": ", 8);
            if (rc == 0)
                rc = write_id(b, id);
        }
        if (rc == 0)
            rc = qk_buf_reserve(b, 3);
        if (rc == 0) {
            b->data[b->len++] = '}';
            memcpy(b->data + b->len, s->eol, s->eol_len);
            b->len += s->eol_len;
            b->data[b->len] = 0;
        }
        return qk__output_finish(s, mark, rc);
    }
    if (rc == 0)
        rc = append_eol(s);
    return qk__output_finish(s, mark, rc);
}

int qk__write_error(qk_session *s, qk_error_class cls, const char *desc,
                    const qk_json *id)
{
    qk_buf *b = &s->out.back;
    size_t mark = b->len;
    int rc;
    const char *cname = qk_error_class_name(cls);
    if (s->flags & QK_SERVER_PRETTY) {
        qk_json *m = qk_json_pack("{s:{s:s, s:s}}", "error", "class", cname,
                                  "desc", desc);
        rc = m ? 0 : QK_ERR_NOMEM;
        if (rc == 0 && id) {
            /* id first, as QEMU's hash order has it */
            qk_json *m2 = qk_json_object_new();
            rc = m2 ? 0 : QK_ERR_NOMEM;
            if (rc == 0)
                rc = qk_json_object_set(m2, "id", (qk_json *)id);
            if (rc == 0)
                rc = qk_json_object_set(m2, "error",
                                        qk_json_object_get(m, "error"));
            qk_json_unref(m);
            m = m2;
        }
        if (rc == 0)
            rc = write_pretty(s, m);
        qk_json_unref(m);
    } else {
        rc = qk_buf_append_char(b, '{');
        if (rc == 0 && id) {
            rc = qk_buf_append(b, "\"id\": ", 6);
            if (rc == 0)
                rc = write_id(b, id);
            if (rc == 0)
                rc = qk_buf_append(b, ", ", 2);
        }
        if (rc == 0)
            rc = qk_buf_append(b, "\"error\": {\"class\": \"", 20);
        if (rc == 0)
            rc = qk_buf_append_str(b, cname);
        if (rc == 0)
            rc = qk_buf_append(b, "\", \"desc\": ", 11);
        if (rc == 0)
            rc = qk_json_write_string(b, desc, strlen(desc));
        if (rc == 0)
            rc = qk_buf_append(b, "}}", 2);
    }
    if (rc == 0)
        rc = append_eol(s);
    return qk__output_finish(s, mark, rc);
}
