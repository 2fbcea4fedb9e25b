/* SPDX-License-Identifier: MIT */
/*
 * Benchmarks of the code generator and of generated code.
 *
 * 1. All back ends on QEMU's main schema, each run a child process so its
 *    peak RSS is that of one run: the library generating into memory, and
 *    the qapi-gen tool writing the files into an empty directory, over its
 *    own unchanged output, and over files that all differ. Median wall
 *    time, CPU time, peak memory, files and bytes, next to QEMU's Python
 *    generator on this kind of machine (0.80 s, 30 MB; the issue's
 *    figures).
 * 2. Decoding the 207 KB query-qmp-schema reply from text into generated
 *    SchemaInfoList structs, through the tree (qk_json_parse +
 *    visit_type_SchemaInfoList) and straight from text (visit_rd_*),
 *    and encoding it back (visit_out_SchemaInfoList + qk_json_write), in
 *    MB/s, next to json-c parsing the same text into its own values.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench-util.h"
#include "qapi-visit.h"
#include "qmpkit/schema-gen.h"
#include "qmpkit/schema.h"
#ifdef HAVE_JSONC
#include <json-c/json.h>
#endif

#define QEMU_SECONDS 0.80
#define QEMU_MB 30.0
#define GEN_RUNS 9

/* ---- 1. generator ---- */

typedef struct wstate {
    long files, bytes;
} wstate;

/* In memory: count only. */
static int count_one(void *opaque, const char *name, const char *data,
                     size_t len)
{
    wstate *w = opaque;
    (void)data;
    if (strncmp(name, "../", 3)) {
        w->files++;
        w->bytes += (long)len;
    }
    return 0;
}

/* One run's wall time (fork to exit), cpu time and peak RSS. */
typedef struct run {
    double wall, cpu;
    long kb;
} run;

static int child_done(pid_t pid, double t0, run *r)
{
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return -1;
    r->wall = now() - t0;
    r->kb = ru.ru_maxrss;
    r->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The whole tool, as a build runs it: qapi-gen -o DIR SCHEMA. */
static int run_tool(const char *schema, const char *dir, run *r)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        execl(QAPI_GEN, QAPI_GEN, "-o", dir, schema, (char *)NULL);
        _exit(127);
    }
    return child_done(pid, t0, r);
}

/* Every generated file, kept for the file system's floor. */
typedef struct fileset {
    size_t n, cap;
    char **names;
    char **data;
    size_t *lens;
} fileset;

static int keep_one(void *opaque, const char *name, const char *data,
                    size_t len)
{
    fileset *fs = opaque;
    if (!strncmp(name, "../", 3))
        return 0;
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? 2 * fs->cap : 512;
        char **nn = realloc(fs->names, cap * sizeof(*nn));
        if (nn)
            fs->names = nn;
        char **nd = realloc(fs->data, cap * sizeof(*nd));
        if (nd)
            fs->data = nd;
        size_t *nl = realloc(fs->lens, cap * sizeof(*nl));
        if (nl)
            fs->lens = nl;
        if (!nn || !nd || !nl)
            return -1;
        fs->cap = cap;
    }
    fs->names[fs->n] = strdup(name);
    fs->data[fs->n] = malloc(len ? len : 1);
    if (!fs->names[fs->n] || !fs->data[fs->n])
        return -1;
    memcpy(fs->data[fs->n], data, len);
    fs->lens[fs->n++] = len;
    return 0;
}

static void fileset_free(fileset *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->names[i]);
        free(fs->data[i]);
    }
    free(fs->names);
    free(fs->data);
    free(fs->lens);
}

/* Creates the directories of PATH below DIR (mkdir -p of its dirname). */
static int make_parents(const char *dir, const char *path)
{
    char buf[4400];
    int n = snprintf(buf, sizeof(buf), "%s/%s", dir, path);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -1;
    for (char *p = buf + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        if (mkdir(buf, 0755) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int write_files(const fileset *fs, const char *dir)
{
    if (mkdir(dir, 0755))
        return -1;
    for (size_t i = 0; i < fs->n; i++) {
        char path[4400];
        if (strchr(fs->names[i], '/') && make_parents(dir, fs->names[i]))
            return -1;
        snprintf(path, sizeof(path), "%s/%s", dir, fs->names[i]);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return -1;
        ssize_t n = write(fd, fs->data[i], fs->lens[i]);
        close(fd);
        if (n != (ssize_t)fs->lens[i])
            return -1;
    }
    return 0;
}

/* The file system's floor: the same files written into DIR with plain
 * mkdir/open/write/close, nothing generated: what any generator pays on
 * this machine's file system. A child generates them into memory first,
 * then times only the writing (no peak memory: the child's is the
 * generator's) and sends its figures back. */
static int run_floor(const char *schema, const char *dir, run *r)
{
    int pfd[2];
    if (pipe(pfd))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        fileset fs = {0};
        qk_schema *s = qk_schema_new();
        qk_gen_options opt = {"", false, false};
        int e = !s || qk_schema_compile_file(s, schema) ||
                qk_schema_generate(s, &opt, keep_one, &fs);
        qk_schema_free(s);
        run rr = {0, 0, -1};
        double t0 = now(), c0 = cpu_seconds();
        e = e || write_files(&fs, dir);
        rr.wall = now() - t0;
        rr.cpu = cpu_seconds() - c0;
        fileset_free(&fs);
        if (e || write(pfd[1], &rr, sizeof(rr)) != (ssize_t)sizeof(rr))
            _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    ssize_t n = pid > 0 ? read(pfd[0], r, sizeof(*r)) : -1;
    close(pfd[0]);
    run ignored;
    int e = child_done(pid, 0, &ignored);
    return e || n != (ssize_t)sizeof(*r) ? -1 : 0;
}

/* The library alone, generating into memory, in a child process so its
 * peak RSS is that of one run. */
static int run_in_memory(const char *schema, run *r, wstate *w)
{
    int pfd[2];
    if (pipe(pfd))
        return -1;
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        wstate cw = {0, 0};
        qk_schema *s = qk_schema_new();
        int e = s ? qk_schema_compile_file(s, schema) : -1;
        qk_gen_options opt = {"", false, false};
        if (!e)
            e = qk_schema_generate(s, &opt, count_one, &cw);
        qk_schema_free(s);
        if (write(pfd[1], &cw, sizeof(cw)) != (ssize_t)sizeof(cw))
            e = -1;
        _exit(e ? 1 : 0);
    }
    close(pfd[1]);
    ssize_t n = pid > 0 ? read(pfd[0], w, sizeof(*w)) : -1;
    close(pfd[0]);
    int e = child_done(pid, t0, r);
    return e || n != (ssize_t)sizeof(*w) ? -1 : 0;
}

/* Changes the first byte of every file in dir, so that the next run has
 * to rewrite them all. */
static int spoil_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = openat(dirfd(d), e->d_name, O_WRONLY);
        if (fd >= 0) {
            if (pwrite(fd, "?", 1, 0) != 1) {
                /* the run then finds it unchanged: reported as faster */
            }
            close(fd);
        }
    }
    closedir(d);
    return 0;
}

static int cmp_run(const void *a, const void *b)
{
    return cmp_double(&((const run *)a)->wall, &((const run *)b)->wall);
}

static void report(const char *what, run *runs)
{
    long kb = 0;
    for (int i = 0; i < GEN_RUNS; i++)
        if (runs[i].kb > kb)
            kb = runs[i].kb;
    qsort(runs, GEN_RUNS, sizeof(run), cmp_run);
    const run *m = &runs[GEN_RUNS / 2];
    char rss[32] = "";
    if (kb > 0)
        snprintf(rss, sizeof(rss), ", peak RSS %.1f MB", (double)kb / 1024.0);
    printf("  %-34s %6.1f ms (min %5.1f, max %5.1f), cpu %5.1f ms%s -> %.0fx\n",
           what, m->wall * 1e3, runs[0].wall * 1e3,
           runs[GEN_RUNS - 1].wall * 1e3, m->cpu * 1e3, rss,
           QEMU_SECONDS / m->wall);
}

/* A fresh directory for the runs under ROOT, or false. */
static bool make_base(char *base, size_t size, const char *root)
{
    snprintf(base, size, "%s/qk-bench-gen-XXXXXX", root);
    return mkdtemp(base) != NULL;
}

static void remove_tree(const char *dir)
{
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd)) {
        /* leftover temp files are harmless */
    }
}

/* /dev/shm when it is a tmpfs: the tool into an empty directory where the
 * file system costs next to nothing. */
static bool have_tmpfs(void)
{
    struct statfs st;
    return !statfs("/dev/shm", &st) &&
           st.f_type == 0x01021994 /* TMPFS_MAGIC */ &&
           !access("/dev/shm", W_OK);
}

static void bench_generator(const char *shared)
{
    char schema[4096];
    snprintf(schema, sizeof(schema),
             "%s/reference/qemu/schema/qapi/qapi-schema.json", shared);
    if (access(schema, R_OK)) {
        printf("generator: %s not found, skipped\n", schema);
        return;
    }
    bool ok = true;
    char base[4096], shm[4096];
    bool tmpfs = have_tmpfs();
    if (!make_base(base, sizeof(base), "/tmp") ||
        (tmpfs && !make_base(shm, sizeof(shm), "/dev/shm"))) {
        printf("generator: setup failed\n");
        return;
    }
    run mem[GEN_RUNS], fresh[GEN_RUNS], floor[GEN_RUNS], same[GEN_RUNS],
        changed[GEN_RUNS], fresh_shm[GEN_RUNS];
    wstate w = {0, 0};
    char dir[4200];
    /* interleaved, so that a change in the machine's load hits them all */
    for (int i = 0; i < GEN_RUNS && ok; i++) {
        snprintf(dir, sizeof(dir), "%s/floor%d", base, i);
        ok = !run_in_memory(schema, &mem[i], &w) &&
             !run_floor(schema, dir, &floor[i]);
        snprintf(dir, sizeof(dir), "%s/%d", base, i);
        ok = ok && !run_tool(schema, dir, &fresh[i]) &&
             !run_tool(schema, dir, &same[i]) && !spoil_files(dir) &&
             !run_tool(schema, dir, &changed[i]);
        if (tmpfs) {
            snprintf(dir, sizeof(dir), "%s/%d", shm, i);
            ok = ok && !run_tool(schema, dir, &fresh_shm[i]);
        }
    }
    remove_tree(base);
    if (tmpfs)
        remove_tree(shm);
    if (!ok) {
        printf("generator: run failed\n");
        return;
    }
    printf("all back ends on QEMU's schema: %ld files, %.2f MB "
           "(median of %d runs, each a child process;\n"
           "QEMU's Python generator: %.2f s, %.0f MB):\n",
           w.files, (double)w.bytes / 1e6, GEN_RUNS, QEMU_SECONDS, QEMU_MB);
    report("generating into memory (library)", mem);
    report("qapi-gen into an empty directory", fresh);
    report("  same files, plain open/write only", floor);
    if (tmpfs)
        report("qapi-gen, empty directory on tmpfs", fresh_shm);
    report("qapi-gen again, nothing changed", same);
    report("qapi-gen again, every file changed", changed);
    printf("  (\"plain open/write only\" writes the same files into an "
           "empty directory of /tmp\n"
           "   without generating anything: the file system's floor, which "
           "no generator\n"
           "   can beat; its x figure is that floor against QEMU's 0.80 s)\n");
}

/* ---- 2. decoding into generated structs ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p)
        p[n] = 0;
    *len = (size_t)n;
    return p;
}

/* What every contender works on. */
typedef struct dctx {
    const char *text;
    size_t len;
    qk_json *tree;          /* the text parsed once */
    SchemaInfoList *list;   /* decoded once, for encoding */
    qk_buf out;
    bool ok;
    size_t entries;
} dctx;

static void run_parse(dctx *c)
{
    qk_json *v = qk_json_parse(c->text, c->len, QK_JSON_QMP, NULL);
    c->ok &= v != NULL;
    qk_json_unref(v);
}

static void run_tree_decode(dctx *c)
{
    qk_json *v = qk_json_parse(c->text, c->len, QK_JSON_QMP, NULL);
    SchemaInfoList *l = NULL;
    qk_error *err = NULL;
    c->ok &= visit_type_SchemaInfoList(NULL, "return",
                                       qk_json_object_get(v, "return"), &l,
                                       &err);
    if (err) {
        printf("decode: %s\n", qk_error_get_desc(err));
        qk_error_free(err);
    }
    c->entries = 0;
    for (SchemaInfoList *i = l; i; i = i->next)
        c->entries++;
    qapi_free_SchemaInfoList(l);
    qk_json_unref(v);
}

/* the fast path: text straight into structs (qk_rd), no tree */
static void run_fast(dctx *c)
{
    qk_rd r;
    const char *k;
    size_t kl;
    SchemaInfoList *l = NULL;
    qk_rd_init(&r, c->text, c->len);
    c->ok &= qk_rd_obj_begin(&r) && qk_rd_key(&r, &k, &kl) == 1 && kl == 6 &&
             !memcmp(k, "return", 6) && visit_rd_SchemaInfoList(&r, &l) &&
             qk_rd_key(&r, &k, &kl) == 0 && qk_rd_end(&r);
    qapi_free_SchemaInfoList(l);
}

/* visiting alone, from the tree parsed once */
static void run_visit(dctx *c)
{
    SchemaInfoList *l = NULL;
    c->ok &= visit_type_SchemaInfoList(NULL, "return",
                                       qk_json_object_get(c->tree, "return"),
                                       &l, NULL);
    qapi_free_SchemaInfoList(l);
}

/* encoding: structs -> value -> text */
static void run_encode(dctx *c)
{
    qk_json *o = qk_json_object_new();
    qk_json_object_set_take(o, "return", visit_out_SchemaInfoList(c->list));
    qk_buf_clear(&c->out);
    c->ok &= qk_json_write(&c->out, o, 0) == 0;
    qk_json_unref(o);
}

#ifdef HAVE_JSONC
static void run_jsonc(dctx *c)
{
    json_object *j = json_tokener_parse(c->text);
    c->ok &= j != NULL;
    json_object_put(j);
}
#endif

typedef struct contender {
    void (*fn)(dctx *);
    double best; /* seconds per call */
} contender;

enum { C_PARSE, C_TREE, C_FAST, C_VISIT, C_ENCODE, C_JSONC, NCONT };
#define ROUNDS 9

/*
 * Seconds per call of each contender: after a warm-up, ROUNDS rounds in
 * which every contender runs for 40 ms in turn, best round kept. The
 * turns interleave so that a change in the machine's load reaches all
 * of them alike.
 */
static void time_all(contender *cs, int n, dctx *c)
{
    for (int i = 0; i < n; i++) {
        cs[i].best = 1e9;
        for (int w = 0; w < 3; w++)
            cs[i].fn(c);
    }
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < n; i++) {
            long calls = 0;
            double t0 = now(), t1;
            do {
                cs[i].fn(c);
                calls++;
                t1 = now();
            } while (t1 - t0 < 0.04);
            double per = (t1 - t0) / (double)calls;
            if (per < cs[i].best)
                cs[i].best = per;
        }
    }
}

static void bench_decode(const char *shared)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/bench-data/qemu-7.2-query-qmp-schema.json",
             shared);
    dctx c = {0};
    c.text = slurp(path, &c.len);
    if (!c.text) {
        printf("decode: %s not found, skipped\n", path);
        return;
    }
    c.ok = true;
    c.out = (qk_buf)QK_BUF_INIT;
    c.tree = qk_json_parse(c.text, c.len, QK_JSON_QMP, NULL);
    visit_type_SchemaInfoList(NULL, "return",
                              qk_json_object_get(c.tree, "return"), &c.list,
                              NULL);
    contender cs[NCONT] = {
        [C_PARSE] = {run_parse, 0},   [C_TREE] = {run_tree_decode, 0},
        [C_FAST] = {run_fast, 0},     [C_VISIT] = {run_visit, 0},
        [C_ENCODE] = {run_encode, 0},
#ifdef HAVE_JSONC
        [C_JSONC] = {run_jsonc, 0},
#endif
    };
    bool fast_ok = true;
    {
        dctx probe = c;
        run_fast(&probe);
        fast_ok = probe.ok;
    }
    time_all(cs, cs[C_JSONC].fn ? NCONT : NCONT - 1, &c);
    qk_json *back = qk_json_parse(c.out.data, c.out.len, QK_JSON_QMP, NULL);
    bool same = back && qk_json_equal(c.tree, back);
    qk_json_unref(back);
    qk_buf_free(&c.out);
    qapi_free_SchemaInfoList(c.list);
    qk_json_unref(c.tree);

    double mb = (double)c.len / 1e6;
    printf("query-qmp-schema reply, %zu bytes, %zu SchemaInfo entries%s "
           "(best of %d interleaved rounds):\n",
           c.len, c.entries, c.ok && same ? "" : " (ERRORS)", ROUNDS);
    printf("  qk_json_parse only:                %7.1f MB/s\n",
           mb / cs[C_PARSE].best);
    printf("  visit parsed tree -> structs:      %7.1f MB/s\n",
           mb / cs[C_VISIT].best);
    printf("  decode text -> SchemaInfoList:     %7.1f MB/s\n",
           mb / cs[C_TREE].best);
    printf("  fast decode text -> structs (no tree): %5.1f MB/s%s\n",
           mb / cs[C_FAST].best, fast_ok ? "" : " (FELL BACK)");
    printf("  encode SchemaInfoList -> text:     %7.1f MB/s (round trip %s)\n",
           mb / cs[C_ENCODE].best, same ? "equal" : "DIFFERS");
#ifdef HAVE_JSONC
    double t_jc = cs[C_JSONC].best;
    printf("  json-c parse into its values:      %7.1f MB/s\n", mb / t_jc);
    printf("  decode to structs vs json-c parse: %.2fx (tree path), %.2fx "
           "(fast path)\n", t_jc / cs[C_TREE].best, t_jc / cs[C_FAST].best);
#else
    printf("  json-c not available: no comparison\n");
#endif
    free((char *)c.text);
}

int main(void)
{
    const char *shared = getenv("QK_SHARED");
    if (!shared)
        shared = "../shared";
    const char *only = getenv("QK_BENCH_ONLY"); /* "gen" or "decode" */
    if (!only || !strcmp(only, "gen"))
        bench_generator(shared);
    if (!only || !strcmp(only, "decode"))
        bench_decode(shared);
    return 0;
}
