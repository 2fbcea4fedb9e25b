/* SPDX-License-Identifier: MIT */
/*
 * glib-server: qk_server driven by GLib's main loop, no thread of ours:
 * the epoll descriptor (I/O) and the dispatch descriptor (in-band
 * commands) are watched as GLib sources, so handlers run on the GLib
 * thread like any other callback. Built only when glib-2.0 is found.
 *
 *   glib-server SOCKET
 */
#include <glib-unix.h>
#include <signal.h>
#include <glib.h>
#include <stdio.h>

#include "qmpkit/server.h"

static void cmd_hello(qk_json *args, qk_json **ret, qk_error **errp,
                      void *opaque)
{
    (void)args, (void)errp, (void)opaque;
    *ret = qk_json_pack("{s:s}", "greeting", "hello from GLib");
}

static gboolean on_io(gint fd, GIOCondition cond, gpointer data)
{
    (void)fd, (void)cond;
    qk_server_io_step(data, 0);
    return G_SOURCE_CONTINUE;
}

static gboolean on_dispatch(gint fd, GIOCondition cond, gpointer data)
{
    (void)fd, (void)cond;
    qk_server_dispatch(data);
    return G_SOURCE_CONTINUE;
}

static gboolean on_sigint(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: glib-server SOCKET\n");
        return 2;
    }
    qk_command_table *t = qk_command_table_new();
    qk_command_table_add(t, "hello", cmd_hello, 0, NULL);
    qk_server_options o = {0};
    o.session.commands = t;
    o.session.flags = QK_SERVER_OOB;
    o.flags = QK_SRV_NO_IO_THREAD;
    qk_server *srv;
    if (qk_server_new(&o, &srv) < 0 ||
        qk_server_listen_unix(srv, argv[1], 0) < 0) {
        fprintf(stderr, "glib-server: cannot listen on %s\n", argv[1]);
        return 1;
    }
    qk_command_table_unref(t);
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_unix_fd_add(qk_server_io_fd(srv), G_IO_IN, on_io, srv);
    g_unix_fd_add(qk_server_dispatch_fd(srv), G_IO_IN, on_dispatch, srv);
    g_unix_signal_add(SIGINT, on_sigint, loop);
    g_main_loop_run(loop);
    g_main_loop_unref(loop);
    qk_server_free(srv);
    return 0;
}
