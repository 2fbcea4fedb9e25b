/* SPDX-License-Identifier: MIT */
/*
 * JSON core benchmark: qmpkit against jansson and json-c, measured in the
 * same run and printed side by side with ratios and the targets.
 *
 *   parse   query-qmp-schema (207 KB, the largest routine QMP reply)
 *   parse   the small-message stream (126 messages), messages/s
 *   write   query-qmp-schema in compact form
 *   stream  qk_json_parser_feed with the reply whole vs one byte per call
 *
 * Each rate is the median of 11 runs of about 0.25 s each
 * (CLOCK_MONOTONIC); each ratio is the median of the 11 ratios of runs
 * made back to back. Inputs: $QK_SHARED/bench-data (default ../shared).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmpkit/json.h"
#include "bench-peers.h"

#define RUNS 11
#define RUN_SECONDS 0.25

static const bench_peer *const peers[] = {
#ifdef HAVE_JANSSON
    &bench_jansson,
#endif
#ifdef HAVE_JSONC
    &bench_jsonc,
#endif
    NULL,
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what)
{
    fprintf(stderr, "bench-json: %s\n", what);
    exit(1);
}

static char *read_file(const char *rel, size_t *len)
{
    const char *base = getenv("QK_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-data/%s", base ? base : "../shared", rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench-json: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("read error");
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* ---- what is measured -------------------------------------------------- */

typedef struct msg {
    const char *text;
    size_t len;
} msg;

typedef struct ctx {
    const char *text; /* the large reply */
    size_t len;
    msg *msgs; /* the small stream, one message per line */
    size_t nmsgs;
    const char *stream; /* the small stream as one buffer */
    size_t stream_len;
    qk_json_mode mode;
    const bench_peer *peer;
    void *doc;         /* peer's parsed reply, for writing */
    qk_json *value;    /* qmpkit's parsed reply, for writing */
    qk_buf out;
    qk_json_parser *parser;
    size_t step;       /* bytes per feed call */
} ctx;

static void qk_parse_large(void *arg)
{
    ctx *c = arg;
    qk_json_error err;
    qk_json *v = qk_json_parse(c->text, c->len, c->mode, &err);
    if (!v)
        die(err.message);
    qk_json_unref(v);
}

static void peer_parse_large(void *arg)
{
    ctx *c = arg;
    void *d = c->peer->parse(c->text, c->len);
    if (!d)
        die("peer parse failed");
    c->peer->free_doc(d);
}

static void qk_parse_small(void *arg)
{
    ctx *c = arg;
    qk_json_error err;
    for (size_t i = 0; i < c->nmsgs; i++) {
        qk_json *v = qk_json_parse(c->msgs[i].text, c->msgs[i].len, c->mode, &err);
        if (!v)
            die(err.message);
        qk_json_unref(v);
    }
}

static void peer_parse_small(void *arg)
{
    ctx *c = arg;
    for (size_t i = 0; i < c->nmsgs; i++) {
        void *d = c->peer->parse(c->msgs[i].text, c->msgs[i].len);
        if (!d)
            die("peer parse failed");
        c->peer->free_doc(d);
    }
}

/* Feeds [d, d + len) in pieces of c->step bytes; returns the values seen. */
static size_t feed(ctx *c, const char *d, size_t len)
{
    size_t off = 0, values = 0;
    qk_json_error err;
    qk_json *v;
    while (off < len) {
        size_t n = len - off < c->step ? len - off : c->step, used = 0;
        v = NULL;
        int st = qk_json_parser_feed(c->parser, d + off, n, &used, &v, &err);
        off += used;
        if (st == QK_JSON_VALUE) {
            qk_json_unref(v);
            values++;
        } else if (st != QK_JSON_MORE) {
            die(st == QK_JSON_ERROR ? err.message : "parser_feed failed");
        }
    }
    int st;
    while ((st = qk_json_parser_finish(c->parser, &v, &err)) != QK_JSON_MORE) {
        if (st != QK_JSON_VALUE)
            die("parser_finish failed");
        qk_json_unref(v);
        values++;
    }
    return values;
}

static void qk_stream_large(void *arg)
{
    ctx *c = arg;
    if (feed(c, c->text, c->len) != 1)
        die("streaming parser: expected one value");
}

static void qk_stream_small(void *arg)
{
    ctx *c = arg;
    if (feed(c, c->stream, c->stream_len) != c->nmsgs)
        die("streaming parser: wrong message count");
}

static void qk_write(void *arg)
{
    ctx *c = arg;
    qk_buf_clear(&c->out);
    if (qk_json_write(&c->out, c->value, 0) < 0)
        die("qk_json_write failed");
}

static void peer_write(void *arg)
{
    ctx *c = arg;
    if (!c->peer->write(c->doc))
        die("peer write failed");
}

/* ---- contenders, measured interleaved ---------------------------------- */

/*
 * The contenders of one section are measured in rounds: run r times each
 * of them once, so that load from other processes (this machine is shared)
 * falls on all of them alike. Each rate is the median of its RUNS runs.
 */
typedef struct contender {
    const char *id;    /* for ratios */
    const char *who;   /* library */
    const char *what;  /* the call */
    void (*fn)(void *);
    ctx c;             /* its own copy of the context */
    double units;      /* per call */
    double rate;       /* result: median units/s */
    double runs[RUNS]; /* units/s in each round, in round order */
} contender;

static void measure_group(contender *k, size_t n)
{
    double rates[8][RUNS];
    for (size_t i = 0; i < n; i++)
        k[i].fn(&k[i].c); /* warm up */
    for (int r = 0; r < RUNS; r++) {
        for (size_t i = 0; i < n; i++) {
            long calls = 0;
            double t0 = now(), t;
            do {
                k[i].fn(&k[i].c);
                calls++;
            } while ((t = now() - t0) < RUN_SECONDS);
            rates[i][r] = (double)calls * k[i].units / t;
        }
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(k[i].runs, rates[i], sizeof k[i].runs);
        qsort(rates[i], RUNS, sizeof rates[i][0], cmp_double);
        k[i].rate = rates[i][RUNS / 2];
    }
}

static void print_group(const contender *k, size_t n, const char *unit, double scale)
{
    for (size_t i = 0; i < n; i++)
        printf("  %-8s %-44s %10.2f %s\n", k[i].who, k[i].what, k[i].rate / scale, unit);
}

static const contender *find(const contender *k, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(k[i].id, id))
            return &k[i];
    return NULL;
}

static double rate_of(const contender *k, size_t n, const char *id)
{
    const contender *c = find(k, n, id);
    return c ? c->rate : 0;
}

/*
 * How many times faster a is than b: the median over the rounds of the
 * ratio within each round. The two ran back to back there, so a change in
 * the machine's load between rounds does not skew the figure. 0 if either
 * is missing.
 */
static double ratio(const contender *k, size_t n, const char *a, const char *b)
{
    const contender *x = find(k, n, a), *y = find(k, n, b);
    double r[RUNS];
    if (!x || !y)
        return 0;
    for (int i = 0; i < RUNS; i++)
        r[i] = x->runs[i] / y->runs[i];
    qsort(r, RUNS, sizeof r[0], cmp_double);
    return r[RUNS / 2];
}

static void verdict(const char *what, double ratio, double target, bool at_most)
{
    bool ok = at_most ? ratio <= target : ratio >= target;
    printf("  %-56s %6.2fx  (target %s %.0fx)  %s\n", what, ratio,
           at_most ? "<=" : ">=", target, ok ? "ok" : "MISSED");
}

static void ratio_line(const char *what, double ratio)
{
    printf("  %-56s %6.2fx\n", what, ratio);
}

int main(void)
{
    ctx c = {0};
    c.text = read_file("qemu-7.2-query-qmp-schema.json", &c.len);
    char *stream = read_file("qmp-small-stream.jsonl", &c.stream_len);
    c.stream = stream;

    /* split the stream into lines (copies, so each parse sees its own end) */
    for (size_t i = 0; i < c.stream_len; i++)
        c.nmsgs += stream[i] == '\n';
    c.msgs = calloc(c.nmsgs + 1, sizeof *c.msgs);
    size_t k = 0;
    for (char *p = stream, *e = stream + c.stream_len; p < e && k <= c.nmsgs;) {
        char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
        if (n) {
            char *copy = malloc(n + 1);
            memcpy(copy, p, n);
            copy[n] = 0;
            c.msgs[k++] = (msg){copy, n};
        }
        p += n + 1;
    }
    c.nmsgs = k;

    /* sanity: qmpkit reads the reply and writes it back byte for byte */
    qk_json_error err;
    c.value = qk_json_parse(c.text, c.len, QK_JSON_QMP, &err);
    if (!c.value)
        die(err.message);
    size_t text_len = c.len;
    while (text_len && (c.text[text_len - 1] == '\n' || c.text[text_len - 1] == '\r'))
        text_len--;
    char *back = qk_json_to_string(c.value, 0, NULL);
    bool same = back && strlen(back) == text_len && !memcmp(back, c.text, text_len);
    qk_free(back);
    c.parser = qk_json_parser_new(NULL);
    c.step = SIZE_MAX;
    if (!c.parser)
        die("out of memory");

    printf("qmpkit JSON benchmark: median of %d runs of %.2f s each, contenders of a\n"
           "section measured in turn within each run; ratios are medians of the\n"
           "per-run ratios\n", RUNS, RUN_SECONDS);
    printf("inputs: query-qmp-schema reply %zu bytes; small stream %zu messages, %zu bytes\n",
           c.len, c.nmsgs, c.stream_len);
    printf("qmpkit parse + compact write of the reply is %s to QEMU's text\n\n",
           same ? "byte-identical" : "NOT identical");

    contender g[8];
    size_t n;
    double jc, jn;

    /* ---- parse the large reply ---- */
    n = 0;
    g[n] = (contender){"qmpkit", "qmpkit", "qk_json_parse (QK_JSON_QMP)", qk_parse_large, c,
                       (double)c.len, 0};
    g[n++].c.mode = QK_JSON_QMP;
    g[n] = (contender){"qmpkit-strict", "qmpkit", "qk_json_parse (QK_JSON_STRICT)",
                       qk_parse_large, c, (double)c.len, 0};
    g[n++].c.mode = QK_JSON_STRICT;
    for (size_t i = 0; peers[i]; i++) {
        g[n] = (contender){peers[i]->name, peers[i]->name, peers[i]->parse_fn,
                           peer_parse_large, c, (double)c.len, 0};
        g[n++].c.peer = peers[i];
    }
    measure_group(g, n);
    printf("parse query-qmp-schema into values\n");
    print_group(g, n, "MB/s", 1e6);
    jc = rate_of(g, n, "json-c");
    jn = rate_of(g, n, "jansson");
    if (jc)
        verdict("qmpkit (QMP) vs json-c", ratio(g, n, "qmpkit", "json-c"), 5, false);
    if (jn)
        verdict("qmpkit (QMP) vs jansson", ratio(g, n, "qmpkit", "jansson"), 7, false);
    if (jc)
        ratio_line("qmpkit (STRICT) vs json-c", ratio(g, n, "qmpkit-strict", "json-c"));
    printf("\n");

    /* ---- small messages ---- */
    n = 0;
    g[n] = (contender){"qmpkit", "qmpkit", "qk_json_parse per message", qk_parse_small, c,
                       (double)c.nmsgs, 0};
    g[n++].c.mode = QK_JSON_QMP;
    g[n++] = (contender){"qmpkit-stream", "qmpkit", "qk_json_parser_feed, whole stream",
                         qk_stream_small, c, (double)c.nmsgs, 0};
    for (size_t i = 0; peers[i]; i++) {
        g[n] = (contender){peers[i]->name, peers[i]->name, peers[i]->parse_fn,
                           peer_parse_small, c, (double)c.nmsgs, 0};
        g[n++].c.peer = peers[i];
    }
    measure_group(g, n);
    printf("parse the small-message stream\n");
    print_group(g, n, "M msg/s", 1e6);
    jc = rate_of(g, n, "json-c");
    jn = rate_of(g, n, "jansson");
    if (jc) {
        verdict("qmpkit (qk_json_parse) vs json-c", ratio(g, n, "qmpkit", "json-c"), 3, false);
        verdict("qmpkit (streaming parser) vs json-c", ratio(g, n, "qmpkit-stream", "json-c"), 3,
                false);
    }
    if (jn)
        ratio_line("qmpkit (qk_json_parse) vs jansson", ratio(g, n, "qmpkit", "jansson"));
    printf("\n");

    /* ---- compact write ---- */
    n = 0;
    g[n++] = (contender){"qmpkit", "qmpkit", "qk_json_write", qk_write, c, (double)c.len, 0};
    for (size_t i = 0; peers[i]; i++) {
        g[n] = (contender){peers[i]->name, peers[i]->name, peers[i]->write_fn, peer_write, c,
                           (double)c.len, 0};
        g[n].c.peer = peers[i];
        g[n].c.doc = peers[i]->parse(c.text, c.len);
        if (!g[n].c.doc)
            die("peer parse failed");
        n++;
    }
    measure_group(g, n);
    printf("compact write of query-qmp-schema (MB/s of the %zu-byte reply)\n", c.len);
    print_group(g, n, "MB/s", 1e6);
    for (size_t i = 1; i < n; i++)
        g[i].c.peer->free_doc(g[i].c.doc);
    qk_buf_free(&g[0].c.out);
    jc = rate_of(g, n, "json-c");
    jn = rate_of(g, n, "jansson");
    if (jc)
        verdict("qmpkit vs json-c", ratio(g, n, "qmpkit", "json-c"), 2, false);
    if (jn)
        ratio_line("qmpkit vs jansson", ratio(g, n, "qmpkit", "jansson"));
    printf("\n");

    /* ---- streaming parser: whole vs one byte per call ---- */
    n = 0;
    g[n++] = (contender){"whole", "qmpkit", "qk_json_parser_feed, whole reply per call",
                         qk_stream_large, c, (double)c.len, 0};
    g[n] = (contender){"bytewise", "qmpkit", "qk_json_parser_feed, one byte per call",
                       qk_stream_large, c, (double)c.len, 0};
    g[n++].c.step = 1;
    measure_group(g, n);
    printf("streaming parser on query-qmp-schema\n");
    print_group(g, n, "MB/s", 1e6);
    verdict("one byte per call is slower than whole by",
            ratio(g, n, "whole", "bytewise"), 3, true);

    qk_json_parser_free(c.parser);
    qk_json_unref(c.value);
    for (size_t i = 0; i < c.nmsgs; i++)
        free((char *)c.msgs[i].text);
    free(c.msgs);
    free(stream);
    free((char *)c.text);
    return 0;
}
