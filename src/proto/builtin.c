/* SPDX-License-Identifier: MIT */
/*
 * The commands the engine answers itself (checklist 5.3, 5.10, 5.11):
 * qmp_capabilities, query-version, query-commands, query-qmp-schema for a
 * QMP server; guest-sync and guest-sync-delimited for a guest agent. Their
 * argument checks give the input visitor's texts (checklist 5.5).
 */
#include <string.h>

#include "proto/session-int.h"

#define BUILTIN_FF_PREFIX (1u << 16)

/* The first member not in allowed[] is unexpected. */
static bool check_unexpected(const qk_json *args, const char *const *allowed,
                             qk_error **errp)
{
    size_t n = qk_json_object_size(args);
    for (size_t i = 0; i < n; i++) {
        const char *k = qk_json_object_key_at(args, i, NULL);
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok) {
            qk_error_setg(errp, QK_ERROR_GENERIC,
                          "Parameter '%s' is unexpected", k);
            return false;
        }
    }
    return true;
}

static const char *const no_args[] = {NULL};

static void qmp_capabilities(qk_session *s, qk_json *args, qk_json **ret,
                             qk_error **errp)
{
    static const char *const allowed[] = {"enable", NULL};
    const qk_json *en = qk_json_object_get(args, "enable");
    bool want_oob = false;
    if (en) {
        if (!qk_json_is_array(en)) {
            qk_error_setg(errp, QK_ERROR_GENERIC,
                          "Invalid parameter type for 'enable', expected: "
                          "array");
            return;
        }
        for (size_t i = 0; i < qk_json_array_size(en); i++) {
            const qk_json *c = qk_json_array_get(en, i);
            if (!qk_json_is_string(c)) {
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "Invalid parameter type for 'enable[%zu]', "
                              "expected: string", i);
                return;
            }
            if (strcmp(qk_json_string(c), "oob") != 0) {
                /* QEMU 7.2 names the parameter 'null' here (a defect) */
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "Parameter 'enable[%zu]' does not accept "
                              "value '%s'", i, qk_json_string(c));
                return;
            }
        }
    }
    if (!check_unexpected(args, allowed, errp))
        return;
    if (s->command_mode) {
        qk_error_setg(errp, QK_ERROR_COMMAND_NOT_FOUND,
                      "Capabilities negotiation is already complete, "
                      "command ignored");
        return;
    }
    if (en) {
        qk_buf unavailable = QK_BUF_INIT;
        for (size_t i = 0; i < qk_json_array_size(en); i++) {
            want_oob = true;
            if (!s->oob_offered &&
                qk_buf_printf(&unavailable, "%s%s",
                              unavailable.len ? ", " : "", "oob") < 0) {
                qk_buf_free(&unavailable);
                qk_error_setg(errp, QK_ERROR_GENERIC, "out of memory");
                return;
            }
        }
        if (unavailable.len) {
            if (s->flags & QK_SERVER_COMPAT_2018)
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "This monitor does not support Out-Of-Band "
                              "(OOB)");
            else
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "Capability %s not available",
                              unavailable.data);
            qk_buf_free(&unavailable);
            return;
        }
    }
    *ret = qk_json_object_new();
    if (!*ret) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "out of memory");
        return;
    }
    s->oob_enabled = want_oob;
    s->command_mode = true;
}

static void query_version(qk_session *s, qk_json *args, qk_json **ret,
                          qk_error **errp)
{
    if (check_unexpected(args, no_args, errp))
        *ret = qk_json_ref(s->version);
}

static void query_qmp_schema(qk_session *s, qk_json *args, qk_json **ret,
                             qk_error **errp)
{
    if (check_unexpected(args, no_args, errp))
        *ret = qk_json_ref(s->schema);
}

static int add_name(qk_json *list, const char *name)
{
    return qk_json_array_append_take(list,
                                     qk_json_pack("{s:s}", "name", name));
}

static void query_commands(qk_session *s, qk_json *args, qk_json **ret,
                           qk_error **errp)
{
    if (!check_unexpected(args, no_args, errp))
        return;
    qk_json *list = qk_json_array_new();
    int rc = list ? 0 : QK_ERR_NOMEM;
    const qk_command_table *t = s->table;
    for (size_t i = t ? t->n : 0; rc == 0 && i > 0; i--) {
        const qk_command *c = &t->cmds[i - 1];
        if (c->enabled && !qk__builtin_find(s, c->name))
            rc = add_name(list, c->name);
    }
    if (rc == 0)
        rc = qk__builtin_list(s, list);
    if (rc < 0) {
        qk_json_unref(list);
        qk_error_setg(errp, QK_ERROR_GENERIC, "out of memory");
        return;
    }
    *ret = list;
}

static bool sync_id(qk_json *args, qk_json **ret, qk_error **errp)
{
    static const char *const allowed[] = {"id", NULL};
    const qk_json *id = qk_json_object_get(args, "id");
    int64_t v;
    if (!id) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "Parameter 'id' is missing");
        return false;
    }
    if (qk_json_typeof(id) != QK_JSON_INT || qk_json_get_int64(id, &v) < 0) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "Invalid parameter type for 'id', expected: integer");
        return false;
    }
    if (!check_unexpected(args, allowed, errp))
        return false;
    *ret = qk_json_int_new(v);
    if (!*ret)
        qk_error_setg(errp, QK_ERROR_GENERIC, "out of memory");
    return *ret != NULL;
}

static void guest_sync(qk_session *s, qk_json *args, qk_json **ret,
                       qk_error **errp)
{
    (void)s;
    sync_id(args, ret, errp);
}

/* Registration order (QEMU's control.json order); listed reversed. */
static const qk_builtin qmp_builtins[] = {
    {"qmp_capabilities", qmp_capabilities, QK_CMD_ALLOW_PRECONFIG},
    {"query-version", query_version, QK_CMD_ALLOW_PRECONFIG},
    {"query-commands", query_commands, QK_CMD_ALLOW_PRECONFIG},
    {"query-qmp-schema", query_qmp_schema, QK_CMD_ALLOW_PRECONFIG},
};

static const qk_builtin ga_builtins[] = {
    {"guest-sync-delimited", guest_sync, BUILTIN_FF_PREFIX},
    {"guest-sync", guest_sync, 0},
};

static bool visible(qk_session *s, const qk_builtin *b)
{
    if (b == &qmp_builtins[0])
        return true;
    if (b == &qmp_builtins[3] && !s->schema)
        return false;
    return s->command_mode;
}

const qk_builtin *qk__builtin_find(qk_session *s, const char *name)
{
    if (s->flags & QK_SERVER_GUEST_AGENT) {
        for (size_t i = 0; i < 2; i++)
            if (strcmp(name, ga_builtins[i].name) == 0)
                return &ga_builtins[i];
        return NULL;
    }
    if (strncmp(name, "q", 1) != 0)
        return NULL;
    for (size_t i = 0; i < 4; i++)
        if (strcmp(name, qmp_builtins[i].name) == 0)
            return visible(s, &qmp_builtins[i]) ? &qmp_builtins[i] : NULL;
    return NULL;
}

int qk__builtin_list(qk_session *s, qk_json *list)
{
    if (s->flags & QK_SERVER_GUEST_AGENT)
        return 0;
    for (size_t i = 4; i > 0; i--) {
        if (visible(s, &qmp_builtins[i - 1])) {
            int rc = add_name(list, qmp_builtins[i - 1].name);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}
