/* SPDX-License-Identifier: MIT */
/*
 * qmp-demo as a process: --stdio over pipes, --qga (guest-agent
 * flavour), quit over a socket (clean exit, socket file removed), systemd
 * socket activation.
 *
 *   test-demo QMP_DEMO_BINARY stdio|qga|quit|systemd
 */
#include <signal.h>
#include <sys/wait.h>

#include "qmpkit/client.h"
#include "server-util.h"

static const char *demo;

static pid_t spawn_demo(char *const argv[], int in_fd, int out_fd)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (in_fd >= 0)
            dup2(in_fd, 0);
        if (out_fd >= 0)
            dup2(out_fd, 1);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    for (int i = 0; i < 500; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void test_stdio(void)
{
    int in[2], out[2];
    CHECK(pipe(in) == 0 && pipe(out) == 0);
    char *argv[] = {(char *)demo, "--stdio", NULL};
    pid_t pid = spawn_demo(argv, in[0], out[1]);
    close(in[0]);
    close(out[1]);
    su_raw *r = su_raw_open_fd(out[0]);
    qk_json *g = su_raw_recv(r, 5000);
    CHECK(g && qk_json_object_get(g, "QMP"));
    qk_json_unref(g);
    const char *s = "{\"execute\": \"qmp_capabilities\"}\n"
                    "{\"execute\": \"query-status\", \"id\": 1}\n"
                    "{\"execute\": \"stop\", \"id\": 2}\n";
    CHECK(write(in[1], s, strlen(s)) == (ssize_t)strlen(s));
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    v = su_raw_recv(r, 5000);
    CHECK(strcmp(su_text(v), "{\"return\": {\"running\": true, \"singlestep\": "
                 "false, \"status\": \"running\"}, \"id\": 1}") == 0);
    qk_json_unref(v);
    v = su_raw_recv(r, 5000);
    CHECK(su_event_name(v) && strcmp(su_event_name(v), "STOP") == 0);
    qk_json_unref(v);
    v = su_raw_recv(r, 5000);
    CHECK(qk_json_object_get(v, "return"));
    qk_json_unref(v);
    close(in[1]); /* end of input ends the stdio session and the daemon */
    CHECK(wait_exit(pid) == 0);
    su_raw_close(r);
}

static pid_t start_sock(const char *path, const char *flag)
{
    char *argv[] = {(char *)demo, "--socket", (char *)path, (char *)flag, NULL};
    pid_t pid = spawn_demo(argv, -1, -1);
    /* the file appears at bind(), connections succeed after listen() */
    for (int i = 0; i < 500; i++) {
        int fd = su_connect_fd(path);
        if (fd >= 0) {
            close(fd);
            return pid;
        }
        usleep(10000);
    }
    CHECK(!"qmp-demo did not start");
    return pid;
}

static void test_qga(void)
{
    const char *path = su_path("qga.sock");
    pid_t pid = start_sock(path, "--qga");
    /* raw: no greeting, guest-sync echoes the id */
    su_raw *r = su_raw_connect(path);
    CHECK(su_raw_recv(r, 200) == NULL);
    su_raw_send(r, "{\"execute\": \"guest-sync\", \"arguments\": {\"id\": 42}}");
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(strcmp(su_text(v), "{\"return\": 42}") == 0);
    qk_json_unref(v);
    su_raw_send(r, "{\"execute\": \"guest-ping\"}");
    v = su_raw_recv(r, 5000);
    CHECK(strcmp(su_text(v), "{\"return\": {}}") == 0);
    qk_json_unref(v);
    su_raw_close(r);
    /* the client in guest-agent mode: guest-sync-delimited first */
    qk_client_options o = {.flags = QK_CLIENT_GUEST_AGENT, .timeout_ms = 5000};
    qk_client *c;
    CHECK(qk_client_connect_unix(path, &o, &c) == 0);
    CHECK(qk_client_greeting(c) == NULL);
    qk_json *ret = NULL;
    CHECK(qk_client_execute(c, "guest-info", NULL, 0, &ret, NULL) == 0);
    CHECK(qk_json_array_size(qk_json_object_get(ret, "supported_commands")) == 4);
    qk_json_unref(ret);
    CHECK(qk_client_execute(c, "guest-ping", NULL, 0, NULL, NULL) == 0);
    qk_client_free(c);
    kill(pid, SIGTERM);
    CHECK(wait_exit(pid) == 0);
    CHECK(access(path, F_OK) != 0);
}

static void test_quit(void)
{
    const char *path = su_path("quit.sock");
    pid_t pid = start_sock(path, "--pretty");
    su_raw *r = su_raw_connect(path);
    su_raw_negotiate(r, true);
    su_raw_send(r, "{\"execute\": \"quit\", \"id\": \"bye\"}");
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, "bye"));
    qk_json_unref(v);
    CHECK(wait_exit(pid) == 0);
    CHECK(access(path, F_OK) != 0);
    su_raw_close(r);
}

/* systemd socket activation: a listening socket on fd 3, LISTEN_PID and
 * LISTEN_FDS set for the child, no --socket. */
static void test_systemd(void)
{
    const char *path = su_path("sd.sock");
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    su_sun(&sa, path);
    CHECK(bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 8) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(ls, 3);
        for (int fd = 4; fd < 1024; fd++)
            close(fd);
        char b[32];
        snprintf(b, sizeof b, "%ld", (long)getpid());
        setenv("LISTEN_PID", b, 1);
        setenv("LISTEN_FDS", "1", 1);
        execl(demo, demo, (char *)NULL);
        _exit(127);
    }
    close(ls);
    su_raw *r = su_raw_connect(path);
    su_raw_negotiate(r, false);
    su_raw_send(r, "{\"execute\": \"query-status\", \"id\": 1}");
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(su_is_return(v, NULL));
    qk_json_unref(v);
    su_raw_close(r);
    kill(pid, SIGTERM);
    CHECK(wait_exit(pid) == 0);
}

/* examples/glib/glib-server: the server inside GLib's main loop. */
static void test_glib(void)
{
    const char *path = su_path("glib.sock");
    char *argv[] = {(char *)demo, (char *)path, NULL};
    pid_t pid = spawn_demo(argv, -1, -1);
    su_raw *r = NULL;
    for (int i = 0; i < 500 && !r; i++) {
        int fd = su_connect_fd(path);
        if (fd >= 0)
            r = su_raw_open_fd(fd);
        else
            usleep(10000);
    }
    CHECK(r);
    su_raw_negotiate(r, true);
    su_raw_send(r, "{\"execute\": \"hello\", \"id\": 1}");
    qk_json *v = su_raw_recv(r, 5000);
    CHECK(strcmp(su_text(v), "{\"return\": {\"greeting\": \"hello from GLib\"}, "
                 "\"id\": 1}") == 0);
    qk_json_unref(v);
    su_raw_close(r);
    kill(pid, SIGINT);
    CHECK(wait_exit(pid) == 0);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    CHECK(argc == 3);
    demo = argv[1];
    if (strcmp(argv[2], "stdio") == 0)
        test_stdio();
    else if (strcmp(argv[2], "qga") == 0)
        test_qga();
    else if (strcmp(argv[2], "quit") == 0)
        test_quit();
    else if (strcmp(argv[2], "systemd") == 0)
        test_systemd();
    else if (strcmp(argv[2], "glib") == 0)
        test_glib();
    else
        return 2;
    return 0;
}
