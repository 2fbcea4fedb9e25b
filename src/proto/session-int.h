/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the sans-I/O QMP session, shared by the files of
 * src/proto: output.c (output buffer, message writers), table.c (command
 * table), qdict-order.c (QEMU's member order), server-check.c (request
 * checks), server.c (queue, dispatch), builtin.c (built-in commands),
 * client.c (client role), session.c (what both roles share).
 */
#ifndef QK_SESSION_INT_H
#define QK_SESSION_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "common/alloc-int.h"
#include "qmpkit/error.h"
#include "qmpkit/json.h"
#include "qmpkit/session.h"

/* ---- command table ---- */

typedef struct qk_command {
    char *name;
    qk_command_fn fn;
    unsigned flags;
    void *opaque;
    bool enabled;
    char *reason; /* why disabled, or NULL */
} qk_command;

struct qk_command_table {
    atomic_long refs;
    qk_command *cmds;
    size_t n, cap;
    uint32_t *index; /* open addressing: command index + 1, 0 = empty */
    size_t index_cap; /* power of two */
};

const qk_command *qk__table_find(const qk_command_table *t, const char *name);

/* ---- built-in commands ---- */

struct qk_session;
typedef struct qk_builtin {
    const char *name;
    /* Runs the command: sets *ret or *errp. */
    void (*run)(struct qk_session *s, qk_json *args, qk_json **ret,
                qk_error **errp);
    unsigned flags;
} qk_builtin;

/* The built-in that name denotes in the session's current mode, or NULL. */
const qk_builtin *qk__builtin_find(struct qk_session *s, const char *name);
/* Appends the built-ins visible now to a query-commands list. */
int qk__builtin_list(struct qk_session *s, qk_json *list);

/* ---- QEMU's QDict member order ---- */

/* QEMU's hash of a key (tdb_hash) and its bucket (hash mod 512). */
unsigned qk__qdict_bucket(const char *key, size_t len);
/* Fills order[0..n) with the member indices of o in the order QEMU iterates
 * a QDict (bucket ascending, later insertion first inside a bucket). n must
 * be qk_json_object_size(o). */
void qk__qdict_order(const qk_json *o, size_t *order, size_t n);

/* ---- requests (server role) ---- */

struct qk_request {
    struct qk_session *s;
    struct qk_request *next;
    qk_json *msg;    /* the parsed message (owned), NULL for a parse error */
    qk_error *err;   /* parse error or early failure (owned) */
    qk_json *id;     /* borrowed from msg */
    qk_json *args;   /* owned reference */
    const char *name; /* borrowed from msg */
    const qk_command *cmd;
    const qk_builtin *builtin;
    bool oob;
    bool checked;
    int *fds;
    size_t nfds, fd_next;
};

void qk__request_free(struct qk_request *r);
/* Frees r's contents and keeps the struct for reuse (lock held). */
void qk__request_recycle(struct qk_session *s, struct qk_request *r);
/* Runs QEMU's checks (qmp_dispatch order). Returns false with *errp set. */
bool qk__request_check(struct qk_session *s, struct qk_request *r,
                       qk_error **errp);

/* ---- output ---- */

typedef struct qk_fd_attach {
    uint64_t off; /* stream offset of the byte the fds go with */
    int *fds;
    size_t n;
} qk_fd_attach;

typedef struct qk_output {
    qk_buf front; /* being written out; stable until consumed */
    size_t front_pos;
    qk_buf back;  /* appended to */
    uint64_t consumed; /* stream offset of front.data[front_pos] */
    uint64_t appended; /* stream offset of the end of back */
    qk_fd_attach *att;
    size_t natt, catt;
} qk_output;

/* ---- client ---- */

typedef struct qk_call {
    int64_t id;
    qk_reply_fn cb;
    void *opaque;
    struct qk_call *prev, *next; /* in-flight or held list, oldest first */
    struct qk_call *hnext;       /* hash chain */
    /* held until negotiation completes */
    char *name;
    qk_json *args;
    unsigned flags;
    int *fds;
    size_t nfds;
} qk_call;

enum {
    QK_C_GREETING,    /* waiting for the greeting */
    QK_C_NEGOTIATING, /* qmp_capabilities sent */
    QK_C_READY,
    QK_C_SYNC_SENTINEL, /* guest agent: discarding up to 0xFF */
    QK_C_SYNC_REPLY,    /* guest agent: waiting for the sync reply */
    QK_C_FAILED,
};

/* ---- the session ---- */

enum { QK_ROLE_SERVER, QK_ROLE_CLIENT };

#define QK_QUEUE_MAX_OOB 8 /* QMP_REQ_QUEUE_LEN_MAX */

struct qk_session {
    pthread_mutex_t lock;
    int role;
    unsigned flags;
    qk_json_parser *parser;
    qk_output out;
    const char *eol;
    size_t eol_len;
    int *in_fds; /* received, not yet attached to a message */
    size_t n_in_fds, c_in_fds;

    /* server */
    qk_command_table *table;
    qk_json *version, *schema;
    bool command_mode, oob_offered, oob_enabled;
    struct qk_request *oob_head, *oob_tail;
    size_t oob_len;
    struct qk_request *ib_head, *ib_tail;
    size_t ib_len;
    bool ib_running;
    bool ff_prefix; /* the reply being written gets a 0xFF first */
    bool lost;      /* a message was dropped for lack of memory */
    qk_json *empty_args; /* shared {} for requests without arguments */
    struct qk_request *spare; /* one freed request kept for reuse */

    /* client */
    qk_client_config ccfg;
    int cstate;
    int64_t next_id;
    int64_t caps_id, sync_id;
    uint64_t rng;
    qk_call *fl_head, *fl_tail; /* in flight, oldest first */
    qk_call *held_head, *held_tail;
    size_t n_flight, n_held;
    qk_call **hash;
    size_t hash_cap;
    qk_call *spare_call; /* one freed call kept for reuse */
};

/* Allocates a session of the role with its lock and parser set up. */
int qk__session_new(int role, size_t max_message, unsigned max_depth,
                    struct qk_session **out);
int qk__session_stash_fds(struct qk_session *s, const int *fds, size_t n);
void qk__close_fds(int *fds, size_t n);

/* Output (caller holds the lock). */
void qk__output_free(qk_output *o);
int qk__output_attach_fds(qk_output *o, int *fds, size_t n);
/* Commits bytes appended to out.back since mark, or rolls them back
 * when rc < 0; returns rc. */
int qk__output_finish(struct qk_session *s, size_t mark, int rc);
/* Appends a complete message: compact (or pretty) text + eol. */
int qk__write_msg(struct qk_session *s, const qk_json *msg);
/* Appends compact message text (no line end) + eol. */
int qk__write_text(struct qk_session *s, const char *text, size_t len);
int qk__write_return(struct qk_session *s, const qk_json *ret,
                     const qk_json *id);
int qk__write_error(struct qk_session *s, qk_error_class cls,
                    const char *desc, const qk_json *id);

/* Server and client halves of the common entry points. */
int qk__server_feed(struct qk_session *s, const char *data, size_t len,
                    size_t *consumed);
bool qk__server_wants_input(struct qk_session *s);
void qk__server_free(struct qk_session *s);
int qk__client_feed(struct qk_session *s, const char *data, size_t len,
                    size_t *consumed);
void qk__client_free(struct qk_session *s);

#endif
