/* SPDX-License-Identifier: MIT */
/*
 * Transcript tests: the .t files of tests/proto/transcripts, replayed through the
 * engine whole and with the input cut at every byte boundary; the outcome
 * must be the same for every cut.
 *
 * Format, one item a line:
 *   # ...                 comment
 *   @server FLAGS         server role; flags: oob pretty ga compat2018
 *                         reject-deprecated reject-unstable
 *   @client FLAGS         client role; flags: want-oob ga max-in-flight=N
 *   > TEXT                bytes from the peer: TEXT and a newline
 *   >> TEXT               bytes from the peer: TEXT, no newline
 *                         (escapes: \r \n \xHH; other backslashes
 *                         are kept, for JSON; $SYNCn is the id of the
 *                         n-th guest sync)
 *   < JSON                a message the engine writes (compared as JSON)
 *   <= TEXT               bytes the engine writes, exactly (escapes); a
 *                         transcript uses either < or <= lines
 *   ! LINE                what the client reports to the application:
 *                         "greeting", "ready 0", "ready ERR CLASS DESC",
 *                         "event JSON", "reply ID return JSON",
 *                         "reply ID error CLASS DESC", "reply ID failed
 *                         ERR", "error CLASS DESC"
 * Actions, run when the input reaches them (or earlier, when the engine
 * holds input back and the action is next):
 *   emit NAME [JSON]      server: send an event (fixed timestamp)
 *   release               server: complete the held "hold" requests
 *   call NAME [JSON]      client: send a request
 *   call-oob NAME [JSON]  client: send an exec-oob request
 *   sync                  client: guest-agent resynchronisation
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../testutil.h"
#include "proto-util.h"

#define SEED 0x5eedULL

typedef struct action {
    size_t off; /* input offset */
    char *line;
} action;

typedef struct transcript {
    const char *name;
    bool client;
    unsigned flags;
    size_t max_in_flight;
    qk_buf input;
    action *acts;
    size_t nacts;
    qk_buf raw_out; /* <= lines */
    bool raw;
    char **out;     /* < lines */
    size_t nout;
    char **log;     /* ! lines */
    size_t nlog;
} transcript;

static void push_str(char ***a, size_t *n, const char *s)
{
    *a = realloc(*a, (*n + 1) * sizeof **a);
    (*a)[(*n)++] = strdup(s);
}

static int64_t sync_ids[8];

static void compute_sync_ids(void)
{
    qk_client_config cfg = {0};
    cfg.flags = QK_CLIENT_GUEST_AGENT;
    cfg.seed = SEED;
    qk_session *s;
    assert_int_equal(qk_session_new_client(&cfg, &s), 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(qk_session_guest_sync(s), 0);
        qk_buf out = QK_BUF_INIT;
        pu_drain(s, &out);
        const char *p = strstr(out.data, "\"id\": ");
        assert_non_null(p);
        sync_ids[i] = strtoll(p + 6, NULL, 10);
        qk_buf_free(&out);
    }
    qk_session_free(s);
}

/* Unescapes TEXT into b. */
static void unescape(const char *t, qk_buf *b)
{
    for (; *t; t++) {
        if (*t == '$' && strncmp(t, "$SYNC", 5) == 0) {
            int k = t[5] - '1';
            qk_buf_printf(b, "%lld", (long long)sync_ids[k]);
            t += 5;
            continue;
        }
        if (*t != '\\' || !t[1]) {
            qk_buf_append_char(b, *t);
            continue;
        }
        t++;
        switch (*t) {
        case 'r': qk_buf_append_char(b, '\r'); break;
        case 'n': qk_buf_append_char(b, '\n'); break;
        case 'x': {
            char hex[3] = {t[1], t[2], 0};
            qk_buf_append_char(b, (char)strtol(hex, NULL, 16));
            t += 2;
            break;
        }
        default: /* JSON's own escapes pass through */
            qk_buf_append_char(b, '\\');
            qk_buf_append_char(b, *t);
        }
    }
}

/* Rewrites the JSON tail of a log line in the writer's compact form, so
 * that spacing in the transcript does not matter. */
static char *normalise(const char *line)
{
    const char *j = NULL;
    if (strncmp(line, "event ", 6) == 0)
        j = line + 6;
    else if (strncmp(line, "reply ", 6) == 0 && strstr(line, " return "))
        j = strstr(line, " return ") + 8;
    if (!j)
        return strdup(line);
    qk_buf b = QK_BUF_INIT;
    unescape(j, &b);
    qk_json *v = qk_json_parse(b.data, b.len, QK_JSON_QMP, NULL);
    qk_buf_free(&b);
    char *s = v ? qk_json_to_string(v, 0, NULL) : NULL;
    qk_json_unref(v);
    qk_buf r = QK_BUF_INIT;
    qk_buf_append(&r, line, (size_t)(j - line));
    qk_buf_append_str(&r, s ? s : "(bad json)");
    qk_free(s);
    char *out = strdup(r.data);
    qk_buf_free(&r);
    return out;
}

static bool load(const char *path, transcript *t)
{
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    if (!text)
        return false;
    memset(t, 0, sizeof *t);
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#' || l[0] == 0)
            continue;
        if (l[0] == '@') {
            t->client = strncmp(l, "@client", 7) == 0;
            if (strstr(l, " oob"))
                t->flags |= QK_SERVER_OOB;
            if (strstr(l, " pretty"))
                t->flags |= QK_SERVER_PRETTY;
            if (strstr(l, " ga"))
                t->flags |= t->client ? QK_CLIENT_GUEST_AGENT
                                      : QK_SERVER_GUEST_AGENT;
            if (strstr(l, " compat2018"))
                t->flags |= QK_SERVER_COMPAT_2018;
            if (strstr(l, " reject-deprecated"))
                t->flags |= QK_SERVER_REJECT_DEPRECATED;
            if (strstr(l, " reject-unstable"))
                t->flags |= QK_SERVER_REJECT_UNSTABLE;
            if (strstr(l, " want-oob"))
                t->flags |= QK_CLIENT_WANT_OOB;
            const char *m = strstr(l, "max-in-flight=");
            if (m)
                t->max_in_flight = strtoul(m + 14, NULL, 10);
        } else if (strncmp(l, ">> ", 3) == 0) {
            unescape(l + 3, &t->input);
        } else if (strncmp(l, "> ", 2) == 0) {
            unescape(l + 2, &t->input);
            qk_buf_append_char(&t->input, '\n');
        } else if (strncmp(l, "<= ", 3) == 0) {
            t->raw = true;
            unescape(l + 3, &t->raw_out);
        } else if (strncmp(l, "< ", 2) == 0) {
            qk_buf b = QK_BUF_INIT;
            unescape(l + 2, &b);
            push_str(&t->out, &t->nout, b.data);
            qk_buf_free(&b);
        } else if (strncmp(l, "! ", 2) == 0) {
            char *n = normalise(l + 2);
            push_str(&t->log, &t->nlog, n);
            free(n);
        } else {
            t->acts = realloc(t->acts, (t->nacts + 1) * sizeof *t->acts);
            t->acts[t->nacts].off = t->input.len;
            t->acts[t->nacts].line = strdup(l);
            t->nacts++;
        }
    }
    free(text);
    return true;
}

static void unload(transcript *t)
{
    qk_buf_free(&t->input);
    qk_buf_free(&t->raw_out);
    for (size_t i = 0; i < t->nacts; i++)
        free(t->acts[i].line);
    free(t->acts);
    for (size_t i = 0; i < t->nout; i++)
        free(t->out[i]);
    free(t->out);
    for (size_t i = 0; i < t->nlog; i++)
        free(t->log[i]);
    free(t->log);
}

/* ---- one run ---- */

typedef struct run {
    transcript *t;
    qk_session *s;
    qk_buf out;
    char **log;
    size_t nlog;
    qk_request *held[64];
    size_t nheld;
    int64_t ids[1024];
    size_t nids;
} run;

static void logf_(run *r, const char *fmt, ...) QK_PRINTF(2, 3);
static void logf_(run *r, const char *fmt, ...)
{
    char line[65536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    push_str(&r->log, &r->nlog, line);
}

static void log_json(run *r, const char *prefix, const qk_json *v)
{
    char *s = qk_json_to_string(v, 0, NULL);
    logf_(r, "%s%s", prefix, s ? s : "(oom)");
    qk_free(s);
}

static void cb_event(qk_session *s, qk_json *ev, void *opaque)
{
    (void)s;
    log_json(opaque, "event ", ev);
}

static void cb_greeting(qk_session *s, qk_json *g, void *opaque)
{
    (void)s;
    (void)g;
    logf_(opaque, "greeting");
}

static void cb_ready(qk_session *s, int status, const qk_error *err,
                     void *opaque)
{
    (void)s;
    if (err)
        logf_(opaque, "ready %d %s %s", status,
              qk_error_class_name(qk_error_get_class(err)),
              qk_error_get_desc(err));
    else
        logf_(opaque, "ready %d", status);
}

static void cb_error(qk_session *s, const qk_error *err, qk_json *msg,
                     void *opaque)
{
    (void)s;
    (void)msg;
    logf_(opaque, "error %s %s", qk_error_class_name(qk_error_get_class(err)),
          qk_error_get_desc(err));
}

static run *cur_run;

static void cb_reply(qk_session *s, int status, qk_json *ret,
                     const qk_error *err, void *opaque)
{
    (void)s;
    long long id = (long long)*(int64_t *)opaque;
    char prefix[64];
    if (status < 0) {
        logf_(cur_run, "reply %lld failed %d", id, status);
    } else if (err) {
        logf_(cur_run, "reply %lld error %s %s", id,
              qk_error_class_name(qk_error_get_class(err)),
              qk_error_get_desc(err));
    } else {
        snprintf(prefix, sizeof prefix, "reply %lld return ", id);
        log_json(cur_run, prefix, ret);
    }
}

static void server_dispatch(run *r)
{
    qk_request *q;
    while ((q = qk_session_next_request(r->s, QK_NEXT_ANY))) {
        if (strcmp(qk_request_name(q), "hold") == 0 && r->nheld < 64) {
            r->held[r->nheld++] = q;
            continue;
        }
        pu_run(q);
    }
}

static void do_action(run *r, const char *line)
{
    char name[256] = "";
    const char *rest = NULL;
    if (strncmp(line, "emit ", 5) == 0 || strncmp(line, "call ", 5) == 0 ||
        strncmp(line, "call-oob ", 9) == 0) {
        const char *p = strchr(line, ' ') + 1;
        size_t n = strcspn(p, " ");
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        rest = p[n] ? p + n + 1 : NULL;
    }
    qk_json *arg = NULL;
    if (rest) {
        qk_buf b = QK_BUF_INIT;
        unescape(rest, &b);
        arg = qk_json_parse(b.data, b.len, QK_JSON_QMP, NULL);
        assert_non_null(arg);
        qk_buf_free(&b);
    }
    if (strncmp(line, "emit ", 5) == 0) {
        qk_json *ev = qk_event_new(name, arg, 1234567890123456LL);
        qk_session_send_event(r->s, ev);
        qk_json_unref(ev);
    } else if (strcmp(line, "release") == 0) {
        for (size_t i = 0; i < r->nheld; i++)
            qk_request_complete(r->held[i], NULL, NULL);
        r->nheld = 0;
    } else if (strncmp(line, "call", 4) == 0) {
        /* callbacks come from feed only, so the slot is filled in time */
        assert_true(r->nids < 1024);
        int64_t *slot = &r->ids[r->nids++];
        int rc = qk_session_call(r->s, name, arg,
                                 line[4] == '-' ? QK_CALL_OOB : 0, NULL, 0,
                                 cb_reply, slot, slot);
        if (rc < 0)
            logf_(r, "call %s failed %d", name, rc);
    } else if (strcmp(line, "sync") == 0) {
        assert_int_equal(qk_session_guest_sync(r->s), 0);
    } else {
        fail_msg("%s: unknown action '%s'", r->t->name, line);
    }
}

static void feed_to(run *r, size_t *pos, size_t end, size_t *ai)
{
    transcript *t = r->t;
    while (*pos < end) {
        size_t used = 0;
        int rc = qk_session_feed(r->s, t->input.data + *pos, end - *pos, NULL,
                                 0, &used);
        (void)rc;
        *pos += used;
        if (!t->client)
            server_dispatch(r);
        pu_drain(r->s, &r->out);
        if (used == 0 && !qk_session_wants_input(r->s)) {
            /* held back: run the next action early */
            if (*ai < t->nacts) {
                do_action(r, t->acts[(*ai)++].line);
                if (!t->client)
                    server_dispatch(r);
                pu_drain(r->s, &r->out);
            } else {
                fail_msg("%s: input stuck at %zu", t->name, *pos);
            }
        }
    }
}

static int run_once(transcript *t, size_t cut, bool verbose)
{
    run r = {0};
    r.t = t;
    cur_run = &r;
    qk_command_table *table = NULL;
    if (t->client) {
        qk_client_config cfg = {0};
        cfg.flags = t->flags;
        cfg.max_in_flight = t->max_in_flight;
        cfg.on_event = cb_event;
        cfg.on_greeting = cb_greeting;
        cfg.on_ready = cb_ready;
        cfg.on_error = cb_error;
        cfg.opaque = &r;
        cfg.seed = SEED;
        assert_int_equal(qk_session_new_client(&cfg, &r.s), 0);
    } else {
        table = pu_table();
        assert_int_equal(qk_command_table_add(table, "hold", pu_nothing,
                                              0, NULL), 0);
        qk_server_config cfg = {table, t->flags, NULL, NULL, 0, 0};
        assert_int_equal(qk_session_new_server(&cfg, &r.s), 0);
    }
    pu_drain(r.s, &r.out);
    size_t pos = 0, ai = 0;
    size_t len = t->input.len;
    while (pos < len || ai < t->nacts) {
        while (ai < t->nacts && t->acts[ai].off <= pos) {
            do_action(&r, t->acts[ai++].line);
            if (!t->client)
                server_dispatch(&r);
            pu_drain(r.s, &r.out);
        }
        size_t end = ai < t->nacts ? t->acts[ai].off : len;
        if (cut > pos && cut < end)
            feed_to(&r, &pos, cut, &ai);
        feed_to(&r, &pos, end, &ai);
        if (pos >= len && ai >= t->nacts)
            break;
    }
    int bad = 0;
    /* output */
    if (t->raw) {
        if (r.out.len != t->raw_out.len ||
            memcmp(r.out.data, t->raw_out.data, r.out.len) != 0) {
            bad++;
            if (verbose)
                print_error("%s (cut %zu): output differs:\n  got:  %s\n"
                            "  want: %s\n",
                            t->name, cut, r.out.data ? r.out.data : "",
                            t->raw_out.data ? t->raw_out.data : "");
        }
    } else {
        bool ga = t->flags & (t->client ? QK_CLIENT_GUEST_AGENT
                                        : QK_SERVER_GUEST_AGENT);
        pu_msgs m = {0};
        pu_split(r.out.data, r.out.len, t->client || ga ? "\n" : "\r\n", &m);
        if (m.bad_framing) {
            bad++;
            if (verbose)
                print_error("%s (cut %zu): bad line ending\n", t->name, cut);
        }
        for (size_t i = 0; i < m.n || i < t->nout; i++) {
            qk_json *want = i < t->nout ? qk_json_parse(t->out[i],
                                                        strlen(t->out[i]),
                                                        QK_JSON_QMP, NULL)
                                        : NULL;
            if (i < t->nout && !want)
                fail_msg("%s: bad JSON in '< %s'", t->name, t->out[i]);
            if (i >= m.n || !want || !qk_json_equal(m.v[i], want)) {
                bad++;
                if (verbose) {
                    char *g = i < m.n ? pu_str(m.v[i]) : strdup("(none)");
                    print_error("%s (cut %zu) output %zu:\n  got:  %s\n"
                                "  want: %s\n",
                                t->name, cut, i, g,
                                i < t->nout ? t->out[i] : "(none)");
                    free(g);
                }
            }
            qk_json_unref(want);
        }
        pu_msgs_free(&m);
    }
    /* application log (client), "sent N" lines left out */
    size_t j = 0;
    for (size_t i = 0; i < r.nlog; i++) {
        if (strncmp(r.log[i], "sent ", 5) == 0)
            continue;
        if (j >= t->nlog || strcmp(r.log[i], t->log[j]) != 0) {
            bad++;
            if (verbose)
                print_error("%s (cut %zu) log %zu:\n  got:  %s\n  want: %s\n",
                            t->name, cut, j, r.log[i],
                            j < t->nlog ? t->log[j] : "(none)");
        }
        j++;
    }
    if (j < t->nlog) {
        bad++;
        if (verbose)
            print_error("%s (cut %zu): missing log line '%s'\n", t->name, cut,
                        t->log[j]);
    }
    for (size_t i = 0; i < r.nheld; i++)
        qk_request_complete(r.held[i], NULL, NULL);
    qk_session_free(r.s);
    qk_command_table_unref(table);
    for (size_t i = 0; i < r.nlog; i++)
        free(r.log[i]);
    free(r.log);
    qk_buf_free(&r.out);
    cur_run = NULL;
    return bad;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_transcripts(void **state)
{
    (void)state;
    compute_sync_ids();
    const char *src = getenv("QK_SRCDIR");
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s/tests/proto/transcripts",
             src ? src : ".");
    DIR *d = opendir(dirpath);
    assert_non_null(d);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 2 && strcmp(e->d_name + l - 2, ".t") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    const char *only = getenv("QK_TRANSCRIPT");
    int failed = 0;
    size_t replays = 0;
    for (size_t i = 0; i < n; i++) {
        if (only && !strstr(names[i], only)) {
            free(names[i]);
            continue;
        }
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
        transcript t;
        assert_true(load(path, &t));
        t.name = names[i];
        int bad = 0;
        /* cut == len: whole input */
        for (size_t cut = t.input.len + 1; cut-- > 0 && !bad;) {
            bad = run_once(&t, cut, true);
            replays++;
        }
        if (bad)
            failed++;
        unload(&t);
        free(names[i]);
    }
    printf("transcripts: %zu, %d failed, %zu replays\n", n, failed, replays);
    assert_int_equal(failed, 0);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transcripts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
