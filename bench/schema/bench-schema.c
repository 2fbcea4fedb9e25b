/* SPDX-License-Identifier: MIT */
/*
 * Times the schema front end on QEMU's main schema (26,000 lines, 46
 * included modules): parse and check, no output. Each run happens in a
 * fresh child process so its peak RSS (getrusage of the child) is the
 * memory of one compile plus the process baseline. The baseline is
 * measured too, by children forked the same way that compile nothing, so
 * the compile's own share can be told apart. Reports the median of the
 * runs and the ratio against QEMU's Python front end measured on this kind
 * of machine for the same work (0.36 s, 24 MB; the figures, as
 * Python's generator is not available here). Doc comments are checked but
 * their text is not kept, as in `qapi-gen --check`.
 *
 * QEMU's figures are of a whole Python process, so the same work is also
 * timed as a whole process: `qapi-gen --check` exec'd, whose peak RSS
 * includes the dynamic linker's and libc's pages (about 1 MB for an empty
 * C program on this system).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench-util.h"
#include "qmpkit/schema.h"

#define RUNS 15

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}
#define QEMU_SECONDS 0.36
#define QEMU_MB 24.0

/* Waits for child pid: its peak RSS in *kb, its CPU time in *cpu; 0 when
 * it exited with status 0. */
static int reap(pid_t pid, long *kb, double *cpu)
{
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    *kb = ru.ru_maxrss;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* One compile in a child, which writes its compile time on fd 3 (a raw
 * double); stores
 * the child's peak RSS in *kb. With PATH NULL the child compiles nothing:
 * its peak RSS is the baseline every run pays. */
static int run_once(const char *path, long *kb, double *cpu)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0 && !path)
        _exit(0);
    if (pid == 0) {
        double c0 = now();
        qk_schema *s = qk_schema_new();
        if (s) /* a checker: doc comments checked, their text not kept */
            qk_schema_set_keep_doc_text(s, false);
        int r = s ? qk_schema_compile_file(s, path) : -1;
        double c1 = now();
        qk_schema_free(s);
        /* report the compile time itself, not fork/exit overhead; as raw
         * bytes, because stdio would make its own code resident in the
         * child and count in the compile's peak */
        double dt = c1 - c0;
        if (write(3, &dt, sizeof dt) != sizeof dt)
            _exit(1);
        _exit(r == 0 ? 0 : 1);
    }
    return reap(pid, kb, cpu);
}

/* The same work as a whole process, as QEMU's figures are: `qapi-gen
 * --check` exec'd, its wall time, CPU time and peak RSS (libc and the
 * dynamic linker's pages included). */
static int run_tool(const char *tool, const char *path, long *kb, double *cpu,
                    double *wall)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl(tool, tool, "--check", path, (char *)NULL);
        _exit(127);
    }
    int r = reap(pid, kb, cpu);
    *wall = now() - t0;
    return r;
}

static void whole_process(const char *path)
{
    const char *build = getenv("QK_BUILDDIR");
    char tool[4096];
    snprintf(tool, sizeof tool, "%s/tools/qapi-gen", build ? build : ".");
    if (access(tool, X_OK)) {
        printf("  whole process: %s not found (set QK_BUILDDIR), skipped\n",
               tool);
        return;
    }
    double walls[RUNS], cpus[RUNS];
    long kbs[RUNS];
    for (int i = 0; i < RUNS; i++)
        if (run_tool(tool, path, &kbs[i], &cpus[i], &walls[i])) {
            printf("  whole process: qapi-gen --check failed\n");
            return;
        }
    qsort(walls, RUNS, sizeof walls[0], cmp_double);
    qsort(cpus, RUNS, sizeof cpus[0], cmp_double);
    qsort(kbs, RUNS, sizeof kbs[0], cmp_long);
    double mb = (double)kbs[RUNS - 1] / 1024.0;
    printf("whole process, `qapi-gen --check` (exec, startup and exit "
           "included), %d runs\n", RUNS);
    printf("  wall time (median): %8.2f ms   CPU (median): %.2f ms\n",
           walls[RUNS / 2] * 1e3, cpus[RUNS / 2] * 1e3);
    printf("  peak RSS (worst run): %.2f MB   median %.2f MB\n", mb,
           (double)kbs[RUNS / 2] / 1024.0);
    printf("  ratio: %.1fx faster (wall), %.1fx faster (CPU), %.1fx less "
           "memory (targets: 30x, 10x)\n", QEMU_SECONDS / walls[RUNS / 2],
           QEMU_SECONDS / cpus[RUNS / 2], QEMU_MB / mb);
}

int main(void)
{
    const char *shared = getenv("QK_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/reference/qemu/schema/qapi/qapi-schema.json",
             shared ? shared : "../shared");
    if (access(path, R_OK)) {
        printf("bench-schema: %s not found, skipped\n", path);
        return 0;
    }
    double secs[RUNS], cpus[RUNS];
    long kbs[RUNS];
    for (int i = 0; i < RUNS; i++) {
        int fds[2];
        if (pipe(fds))
            return 1;
        fflush(stdout);
        int saved = dup(3);
        dup2(fds[1], 3);
        close(fds[1]);
        long kb = 0;
        int r = run_once(path, &kb, &cpus[i]);
        if (saved >= 0) {
            dup2(saved, 3);
            close(saved);
        } else {
            close(3);
        }
        double dt = 0;
        ssize_t n = read(fds[0], &dt, sizeof dt);
        close(fds[0]);
        if (r || n != sizeof dt) {
            fprintf(stderr, "bench-schema: compile failed\n");
            return 1;
        }
        secs[i] = dt;
        kbs[i] = kb;
    }
    long base_kb = 0;
    for (int i = 0; i < RUNS; i++) {
        long kb = 0;
        double cpu;
        if (run_once(NULL, &kb, &cpu))
            return 1;
        if (kb > base_kb)
            base_kb = kb;
    }
    qsort(secs, RUNS, sizeof secs[0], cmp_double);
    qsort(cpus, RUNS, sizeof cpus[0], cmp_double);
    double ms = secs[RUNS / 2];
    qsort(kbs, RUNS, sizeof kbs[0], cmp_long);
    long maxkb = kbs[RUNS - 1];
    double mb = (double)maxkb / 1024.0;
    printf("schema front end in a forked child, QEMU qapi-schema.json (parse "
           "+ check, doc text not kept), %d runs\n", RUNS);
    printf("  wall time (median): %8.2f ms   min %.2f ms   max %.2f ms\n",
           ms * 1e3, secs[0] * 1e3, secs[RUNS - 1] * 1e3);
    printf("  CPU time of the whole child process (median, user+sys, "
           "includes exec-free startup and exit): %.2f ms\n",
           cpus[RUNS / 2] * 1e3);
    /* the kernel sums RSS in per-CPU batches, so a reading can be off by
     * a few hundred KB: the median is shown next to the worst run */
    printf("  peak RSS (process, worst run): %.2f MB   median %.2f MB   of "
           "which baseline (a child forked the same way, compiling "
           "nothing): %.2f MB\n", mb, (double)kbs[RUNS / 2] / 1024.0,
           (double)base_kb / 1024.0);
    printf("  QEMU's Python front end: %.2f s, %.0f MB\n", QEMU_SECONDS,
           QEMU_MB);
    printf("  ratio: %.1fx faster (wall), %.1fx faster (CPU), %.1fx less "
           "memory (targets: 30x, 10x)\n",
           QEMU_SECONDS / ms, QEMU_SECONDS / cpus[RUNS / 2], QEMU_MB / mb);
    printf("  (wall time is sensitive to machine load; the CPU figure is "
           "not)\n");
    whole_process(path);
    return 0;
}
