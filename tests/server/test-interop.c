/* SPDX-License-Identifier: MIT */
/*
 * The same protocol-level cases sent to QEMU 7.2 (`qemu-system-x86_64
 * -machine none`) and to qmp-demo over real unix sockets: the replies must
 * be the same JSON values, apart from version numbers and timestamps.
 * Skips (77) when QEMU is not installed.
 *
 *   test-interop QMP_DEMO_BINARY
 */
#include <signal.h>
#include <sys/wait.h>

#include "server-util.h"

typedef struct tcase {
    const char *send;
    int replies; /* messages expected back (events included) */
    /* QEMU's documented defect in this reply: only the error class is
     * compared (e.g. it names list elements 'null' in errors) */
    const char *defect;
} tcase;

static const tcase cases[] = {
    /* before negotiation */
    {"{\"execute\": \"query-status\"}", 1},
    {"{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"x\"]}}", 1,
     "list elements are named 'null' in QEMU's error messages"},
    {"{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}, \"id\": 1}", 1},
    /* command mode */
    {"{\"execute\": \"qmp_capabilities\"}", 1},
    {"{\"execute\": \"query-status\", \"id\": \"a\"}", 1},
    {"{\"execute\": \"query-version\"}", 1},
    {"{\"execute\": \"stop\", \"id\": 2}", 2},
    {"{\"execute\": \"query-status\", \"id\": 3}", 1},
    {"{\"execute\": \"cont\", \"id\": 4}", 2},
    {"{\"execute\": \"no-such-command\", \"id\": 5}", 1},
    {"[]", 1},
    {"{\"execute\": 1}", 1},
    {"{\"id\": 1}", 1},
    {"{\"execute\": \"query-status\", \"arguments\": []}", 1},
    {"{\"execute\": \"query-status\", \"foo\": 1}", 1},
    {"{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}", 1},
    {"{\"exec-oob\": \"query-status\", \"id\": 6}", 1},
    {"{\"execute\": \"query-status\", \"exec-oob\": \"query-status\"}", 1},
    {"{\"execute\": \"query-status\", \"id\": {\"a\": [1, 2.5, null]}}", 1},
    {"{\"execute\": \"query-status\", \"control\": {}}", 1},
    {"{\"execute\": }", 1},
    {"\"str\"", 1},
    {"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"f\"}}", 1},
    {"{\"execute\": \"getfd\"}", 1},
    {"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": 3}}", 1},
    {"{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"nope\"}}", 1},
    {"{'execute': 'query-status', 'id': 'single'}", 1},
    {"{\"execute\": \"query-status\", \"arguments\": null}", 1},
    {"{\"execute\": \"stop\", \"arguments\": {\"x\": 1}}", 1},
    {"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"f\", \"extra\": 1}}", 1},
    {"{\"execute\": \"closefd\", \"arguments\": {}}", 1},
    {"{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}", 1},
    {"{\"execute\": \"query-status\", \"id\": 8}\n{\"execute\": \"cont\", \"id\": 9}", 2},
    {"{\"execute\": \"query-status\", \"id\": \"\\u00e9t\\u00e9\"}", 1},
    {"{\"execute\": \"query-status\", \"id\": 1.5e3}", 1},
    {"{\"execute\": \"query-status\", \"id\": -9223372036854775808}", 1},
    {"{\"execute\": \"query-status\", \"id\": 18446744073709551615}", 1},
    {"{\"execute\": \"query-status\"}{\"execute\": \"query-status\", \"id\": 7}", 2},
};

static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static su_raw *wait_connect(const char *path, pid_t pid)
{
    for (int i = 0; i < 500; i++) {
        int fd = su_connect_fd(path);
        if (fd >= 0)
            return su_raw_open_fd(fd);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return NULL;
        usleep(20000);
    }
    return NULL;
}

/* Waits up to 20 s for pid to exit after SIGTERM; if it hangs, says
 * where its threads are (and their stacks when gdb is there) and kills
 * it; then fails when it must exit cleanly (ours), rather than leaving
 * the test to its timeout. QEMU's own exit is not ours to test. */
static int wait_exit(pid_t pid, const char *what, bool must)
{
    int st;
    for (int i = 0; i < 2000; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        usleep(10000);
    }
    fprintf(stderr, "%s (pid %d) did not exit on SIGTERM; its threads:\n",
            what, (int)pid);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "for t in /proc/%d/task/*; do echo \"$t $(cat $t/comm) "
             "$(cat $t/wchan)\"; done >&2; command -v gdb >/dev/null && "
             "gdb -p %d -batch -ex 'thread apply all bt' >&2 2>/dev/null",
             (int)pid, (int)pid);
    if (system(cmd) < 0)
        perror("system");
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    if (must)
        exit(1);
    return st;
}

/* Drops what legitimately differs: version numbers, timestamps. */
static qk_json *normalize(qk_json *v, bool is_version_reply)
{
    if (!v || !qk_json_is_object(v))
        return v;
    qk_json *c = qk_json_copy(v);
    qk_json_unref(v);
    qk_json *qmp = qk_json_object_get(c, "QMP");
    if (qmp)
        qk_json_object_set_take(qmp, "version", qk_json_null());
    if (qk_json_object_get(c, "timestamp"))
        qk_json_object_set_take(c, "timestamp", qk_json_null());
    if (is_version_reply && qk_json_object_get(c, "return"))
        qk_json_object_set_take(c, "return", qk_json_null());
    return c;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* what ran is in the log if killed */
    if (argc != 2) {
        fprintf(stderr, "usage: test-interop QMP_DEMO\n");
        return 2;
    }
    if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0) {
        printf("SKIP: qemu-system-x86_64 is not installed "
               "(apt-get install qemu-system-x86)\n");
        return 77;
    }
    char qarg[600];
    snprintf(qarg, sizeof qarg, "unix:%s,server=on,wait=off",
             su_path("qemu.sock"));
    char *qemu_argv[] = {"qemu-system-x86_64", "-machine", "none",
                         "-nodefaults", "-display", "none", "-qmp", qarg,
                         NULL};
    char demo_sock[512];
    snprintf(demo_sock, sizeof demo_sock, "%s", su_path("demo.sock"));
    char *demo_argv[] = {argv[1], "--socket", demo_sock, NULL};
    pid_t qpid = spawn(qemu_argv);
    pid_t dpid = spawn(demo_argv);
    su_raw *q = wait_connect(su_path("qemu.sock"), qpid);
    su_raw *d = wait_connect(demo_sock, dpid);
    if (!q) {
        printf("SKIP: QEMU did not start\n");
        kill(dpid, SIGTERM);
        waitpid(dpid, NULL, 0);
        return 77;
    }
    CHECK(d);
    int failures = 0;
    /* the greeting */
    qk_json *gq = normalize(su_raw_recv(q, 5000), false);
    qk_json *gd = normalize(su_raw_recv(d, 5000), false);
    CHECK(gq && gd);
    if (!qk_json_equal(gq, gd)) {
        printf("greeting differs:\n  qemu: %s\n", su_text(gq));
        printf("  demo: %s\n", su_text(gd));
        failures++;
    }
    qk_json_unref(gq);
    qk_json_unref(gd);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        su_raw_send(q, cases[i].send);
        su_raw_send(d, cases[i].send);
        bool ver = strstr(cases[i].send, "query-version") != NULL;
        for (int k = 0; k < cases[i].replies; k++) {
            qk_json *a = normalize(su_raw_recv(q, 5000), ver);
            qk_json *b = normalize(su_raw_recv(d, 5000), ver);
            char ta[8192];
            snprintf(ta, sizeof ta, "%s", su_text(a));
            bool same = a && b && qk_json_equal(a, b);
            if (!same && a && b && cases[i].defect) {
                qk_json *ea = qk_json_object_get(a, "error");
                qk_json *eb = qk_json_object_get(b, "error");
                if (ea && eb && qk_json_equal(qk_json_object_get(ea, "class"),
                                              qk_json_object_get(eb, "class"))) {
                    printf("known QEMU defect (%s) %s\n  qemu: %s\n",
                           cases[i].defect, cases[i].send, ta);
                    printf("  demo: %s\n", su_text(b));
                    same = true;
                    qk_json_unref(a);
                    qk_json_unref(b);
                    continue;
                }
            }
            if (!same) {
                printf("DIFF %s\n  qemu: %s\n  demo: %s\n", cases[i].send, ta,
                       su_text(b));
                failures++;
            } else {
                printf("same %s\n  -> %s\n", cases[i].send, ta);
            }
            qk_json_unref(a);
            qk_json_unref(b);
        }
    }
    su_raw_close(q);
    su_raw_close(d);
    kill(qpid, SIGTERM);
    kill(dpid, SIGTERM);
    wait_exit(qpid, "QEMU", false);
    int st = wait_exit(dpid, "qmp-demo", true);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* clean shutdown */
    printf("%d difference(s)\n", failures);
    return failures ? 1 : 0;
}
