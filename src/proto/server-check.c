/* SPDX-License-Identifier: MIT */
/*
 * Request checks of the server role, in QEMU's order and with its texts
 * (qmp_dispatch; checklist 5.4): shape of the request object, command
 * lookup (built-ins, then the table), compatibility policy, disabled
 * commands, OOB permission. Argument checks belong to the handlers.
 */
#include <string.h>

#include "proto/session-int.h"

static bool key_is(const char *k, size_t klen, const char *lit)
{
    return klen == strlen(lit) && memcmp(k, lit, klen) == 0;
}

/* The members a request may have, found in one pass. */
typedef struct members {
    qk_json *execute, *exec_oob, *arguments, *id, *control;
    bool other; /* any other member */
} members;

static void scan(const qk_json *o, size_t n, members *mb)
{
    memset(mb, 0, sizeof *mb);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *k = qk_json_object_key_at(o, i, &klen);
        qk_json *v = qk_json_object_value_at(o, i);
        if (key_is(k, klen, "execute"))
            mb->execute = v;
        else if (key_is(k, klen, "id"))
            mb->id = v;
        else if (key_is(k, klen, "arguments"))
            mb->arguments = v;
        else if (key_is(k, klen, "exec-oob"))
            mb->exec_oob = v;
        else if (key_is(k, klen, "control"))
            mb->control = v;
        else
            mb->other = true;
    }
}

/* The common case: every member acceptable and exactly one of
 * execute/exec-oob. Then QEMU's member order cannot matter. */
static bool members_ok(qk_session *s, const members *mb)
{
    bool compat = s->flags & QK_SERVER_COMPAT_2018;
    bool oob_key = !compat && s->oob_enabled;
    if (mb->other || (mb->exec_oob && !oob_key) || (mb->control && !compat))
        return false;
    if ((mb->execute != NULL) + (mb->exec_oob != NULL) != 1)
        return false;
    if (mb->execute && !qk_json_is_string(mb->execute))
        return false;
    if (mb->exec_oob && !qk_json_is_string(mb->exec_oob))
        return false;
    if (mb->arguments && !qk_json_is_object(mb->arguments))
        return false;
    return !mb->control || qk_json_is_object(mb->control);
}

/* qmp_dispatch_check_obj: members in QDict order, the first problem wins. */
static bool check_members(qk_session *s, const qk_json *o,
                          const members *mb, qk_error **errp)
{
    size_t n = qk_json_object_size(o);
    if (members_ok(s, mb))
        return true;
    size_t small[16];
    size_t *order = n <= 16 ? small : qk_malloc(n * sizeof *order);
    if (!order) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "out of memory");
        return false;
    }
    qk__qdict_order(o, order, n);
    bool compat = s->flags & QK_SERVER_COMPAT_2018;
    const char *exec_key = NULL;
    bool ok = true;
    for (size_t j = 0; j < n && ok; j++) {
        size_t klen;
        const char *k = qk_json_object_key_at(o, order[j], &klen);
        const qk_json *v = qk_json_object_value_at(o, order[j]);
        if (key_is(k, klen, "execute") ||
            (!compat && s->oob_enabled && key_is(k, klen, "exec-oob"))) {
            if (!qk_json_is_string(v)) {
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "QMP input member '%s' must be a string", k);
                ok = false;
            } else if (exec_key) {
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "QMP input member '%s' clashes with '%s'", k,
                              exec_key);
                ok = false;
            }
            exec_key = k;
        } else if (key_is(k, klen, "arguments")) {
            if (!qk_json_is_object(v)) {
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "QMP input member 'arguments' must be an "
                              "object");
                ok = false;
            }
        } else if (key_is(k, klen, "id")) {
            continue;
        } else if (compat && key_is(k, klen, "control")) {
            if (!qk_json_is_object(v)) {
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "QMP input member 'control' must be a dict");
                ok = false;
            }
        } else {
            qk_error_setg(errp, QK_ERROR_GENERIC,
                          "QMP input member '%s' is unexpected", k);
            ok = false;
        }
    }
    if (ok && !exec_key) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "QMP input lacks member 'execute'");
        ok = false;
    }
    if (order != small)
        qk_free(order);
    return ok;
}

bool qk__request_check(qk_session *s, struct qk_request *r, qk_error **errp)
{
    const qk_json *m = r->msg;
    if (!qk_json_is_object(m)) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "QMP input must be a JSON object");
        return false;
    }
    members mb;
    scan(m, qk_json_object_size(m), &mb);
    r->id = mb.id;
    if (!check_members(s, m, &mb, errp))
        return false;
    bool compat = s->flags & QK_SERVER_COMPAT_2018;
    const qk_json *exec = mb.execute;
    r->oob = false;
    if (!exec) {
        exec = mb.exec_oob;
        r->oob = true;
    } else if (compat) {
        const qk_json *ctl = mb.control;
        r->oob = ctl && qk_json_get_bool(qk_json_object_get(ctl, "run-oob"));
        if (r->oob && !s->oob_enabled) {
            qk_error_setg(errp, QK_ERROR_GENERIC,
                          "Please enable Out-Of-Band first for the session "
                          "during capabilities negotiation");
            return false;
        }
        if (s->oob_enabled && !r->id) {
            qk_error_setg(errp, QK_ERROR_GENERIC,
                          "Out-Of-Band capability requires that every "
                          "command contains an 'id' field");
            return false;
        }
    }
    r->name = qk_json_string(exec);
    const char *name = r->name;

    unsigned flags;
    r->builtin = qk__builtin_find(s, name);
    if (r->builtin) {
        flags = r->builtin->flags;
    } else {
        r->cmd = s->command_mode ? qk__table_find(s->table, name) : NULL;
        if (!r->cmd) {
            qk_error_setg(errp, QK_ERROR_COMMAND_NOT_FOUND,
                          "The command %s has not been found", name);
            return false;
        }
        flags = r->cmd->flags;
        if ((flags & QK_CMD_DEPRECATED) &&
            (s->flags & QK_SERVER_REJECT_DEPRECATED)) {
            qk_error_setg(errp, QK_ERROR_COMMAND_NOT_FOUND,
                          "Deprecated command %s disabled by policy", name);
            return false;
        }
        if ((flags & QK_CMD_UNSTABLE) &&
            (s->flags & QK_SERVER_REJECT_UNSTABLE)) {
            qk_error_setg(errp, QK_ERROR_COMMAND_NOT_FOUND,
                          "Unstable command %s disabled by policy", name);
            return false;
        }
        if (!r->cmd->enabled) {
            if (compat)
                qk_error_setg(errp, QK_ERROR_GENERIC,
                              "The command %s has been disabled for this "
                              "instance", name);
            else
                qk_error_setg(errp, QK_ERROR_COMMAND_NOT_FOUND,
                              "Command %s has been disabled%s%s", name,
                              r->cmd->reason ? ": " : "",
                              r->cmd->reason ? r->cmd->reason : "");
            return false;
        }
    }
    if (r->oob && !(flags & QK_CMD_ALLOW_OOB)) {
        qk_error_setg(errp, QK_ERROR_GENERIC,
                      "The command %s does not support OOB", name);
        return false;
    }
    qk_json *args = mb.arguments;
    if (!args && !s->empty_args)
        s->empty_args = qk_json_object_new();
    r->args = qk_json_ref(args ? args : s->empty_args);
    if (!r->args) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "out of memory");
        return false;
    }
    r->checked = true;
    return true;
}
