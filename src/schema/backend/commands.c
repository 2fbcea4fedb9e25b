/* SPDX-License-Identifier: MIT */
/*
 * The commands back end (checklist 4.4): per module, qapi-commands-MODULE.h
 * with the handler prototypes a server author implements (qmp_NAME, boxed
 * honoured) and the generated marshallers qmp_marshal_NAME (a
 * qk_command_fn); qapi-init-commands.h/.c with PREFIXqmp_init_marshal(),
 * which registers every gen:true command in schema order with its flags.
 */
#include <string.h>

#include "schema/backend/gen-int.h"

static bool has_args(const entity *e)
{
    return e->arg && !is_empty_object(e->arg);
}

/* The parameter list (without errp), one parameter per line. */
static void gen_params(gen *g, gfile *f, const entity *e, bool trailing_comma)
{
    size_t fl = strlen(f->name);
    bool h = fl > 2 && !strcmp(f->name + fl - 2, ".h");
    if (e->boxed && e->arg) {
        out(g, f, "%s *arg%s", c_name(g, e->arg->name, false),
            trailing_comma ? ", " : "");
        return;
    }
    if (!has_args(e))
        return;
    outs(g, f, "\n");
    for (size_t i = 0; i < e->arg->all_members.n; i++) {
        const member *m = e->arg->all_members.v[i];
        gen_if(g, f, m->ifcond);
        outs(g, f, "    ");
        if (need_has(m))
            out(g, f, "bool has_%s, ", c_name(g, m->name, true));
        const char *t = c_param_type(g, m->type);
        out(g, f, "%s%s%s", t, type_sep(t),
            (h ? c_name_cxx(g, m->name) : c_name(g, m->name, true)));
        if (trailing_comma || i + 1 < e->arg->all_members.n)
            outs(g, f, ",");
        outs(g, f, "\n");
        gen_endif(g, f, m->ifcond);
    }
    outs(g, f, "    ");
}

static const char *ret_type(gen *g, const entity *e)
{
    return e->ret ? c_type(g, e->ret) : "void";
}

static void gen_proto(gen *g, gfile *h, const entity *e)
{
    const char *rt = ret_type(g, e);
    out(g, h, "%s%sqmp_%s(", rt, type_sep(rt),
        c_name(g, e->name, false));
    gen_params(g, h, e, true);
    outs(g, h, "qk_error **errp)");
}

static void gen_marshal(gen *g, gfile *c, const entity *e)
{
    const char *cn = c_name(g, e->name, false);
    out(g, c,
        "void qmp_marshal_%s(qk_json *args, qk_json **ret, qk_error **errp,\n"
        "    void *opaque)\n{\n"
        "    qk_error *err = NULL;\n"
        "    qk_vpath root = {NULL, NULL, 0, false};\n"
        "    size_t seen = 0;\n",
        cn);
    const char *an = e->arg ? c_name(g, e->arg->name, false) : NULL;
    if (e->arg)
        out(g, c, "    %s arg;\n", an);
    if (e->ret)
        out(g, c, "    %s%sretval;\n", c_type(g, e->ret),
            is_ptr_type(e->ret) ? "" : " ");
    outs(g, c, "    (void)opaque;\n    (void)ret;\n");
    if (e->arg)
        out(g, c,
            "    memset(&arg, 0, sizeof(arg));\n"
            "    if (!visit_type_%s_members(&root, args, &arg, &seen, errp) ||\n"
            "        !qk_v_check_struct(&root, args, seen, visit_known_%s, &arg, errp))\n"
            "        goto out;\n",
            an, an);
    else
        outs(g, c,
             "    if (!qk_v_check_struct(&root, args, seen, qk_known_none, NULL, errp))\n"
             "        goto out;\n");
    outs(g, c, "    ");
    if (e->ret)
        outs(g, c, "retval = ");
    out(g, c, "qmp_%s(", cn);
    if (e->boxed && e->arg) {
        outs(g, c, "&arg, ");
    } else if (has_args(e)) {
        outs(g, c, "\n");
        for (size_t i = 0; i < e->arg->all_members.n; i++) {
            const member *m = e->arg->all_members.v[i];
            gen_if(g, c, m->ifcond);
            outs(g, c, "        ");
            if (need_has(m))
                out(g, c, "arg.has_%s, ", c_name(g, m->name, true));
            out(g, c, "arg.%s,\n", c_name(g, m->name, true));
            gen_endif(g, c, m->ifcond);
        }
        outs(g, c, "        ");
    }
    outs(g, c, "&err);\n"
               "    if (err) {\n        qk_error_propagate(errp, err);\n"
               "        goto out;\n    }\n");
    if (e->ret) {
        out(g, c, "    *ret = visit_out_%s(retval);\n", type_cname(g, e->ret));
        const char *st = free_stmt(g, e->ret, "retval");
        if (st)
            out(g, c, "    %s\n", st);
        outs(g, c, "    if (!*ret)\n        qk_v_nomem(errp);\n");
    }
    outs(g, c, "out:\n");
    if (e->arg)
        out(g, c, "    qapi_free_%s_members(&arg);\n", an);
    else
        outs(g, c, "    ;\n");
    outs(g, c, "}\n\n");
}

static const char *cmd_flags(gen *g, const entity *e)
{
    const char *r = NULL;
#define ADD(cond, s) if (cond) r = r ? gs(g, "%s | %s", r, s) : s
    ADD(!e->success_response, "QK_CMD_NO_SUCCESS_RESPONSE");
    ADD(e->allow_oob, "QK_CMD_ALLOW_OOB");
    ADD(e->allow_preconfig, "QK_CMD_ALLOW_PRECONFIG");
    for (size_t i = 0; i < e->features->n; i++) {
        const feature *f = e->features->v[i];
        ADD(!strcmp(f->name, "deprecated"), "QK_CMD_DEPRECATED");
        ADD(!strcmp(f->name, "unstable"), "QK_CMD_UNSTABLE");
    }
#undef ADD
    return r ? r : "0";
}

void gen_commands(gen *g)
{
    const char *init_base = gs(g, "%sqapi-init-commands", g->prefix);
    gfile *ih, *ic;
    gf_open_pair(g, init_base, "Schema-defined QAPI/QMP commands: registration",
                 &ih, &ic);
    out(g, ih, "#include \"qmpkit/session.h\"\n\n"
               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
               "/* Registers every generated command in schema order.\n"
               " * Returns 0 or a negative QK_ERR_* from qk_command_table_add. */\n"
               "int %sqmp_init_marshal(qk_command_table *cmds);\n\n"
               "#ifdef __cplusplus\n}\n#endif\n",
        g->cprefix);
    gf_close_h(g, ih);
    out(g, ic, "#include \"%s.h\"\n", init_base);
    gfile *body = gf_new(g, "\x01init-body");  /* scratch, dropped below */
    out(g, body, "int %sqmp_init_marshal(qk_command_table *cmds)\n{\n"
                 "    int r = 0;\n    (void)cmds;\n", g->cprefix);

    for (size_t i = 0; i < g->s->modules.n; i++) {
        const module *m = g->s->modules.v[i];
        if (module_is_builtin(m))
            continue;
        const char *base = module_fname(g, m, "qapi-commands");
        gfile *h, *c;
        gf_open_pair(g, base, "Schema-defined QAPI/QMP commands", &h, &c);
        out(g, h, "#include \"%s\"\n#include \"qmpkit/session.h\"\n",
            rel_include(g, h->name,
                        gs(g, "%s.h", module_fname(g, m, "qapi-visit"))));
        gf_begin_pair(g, h, c);
        out(g, ic, "#include \"%s\"\n", rel_include(g, ic->name, h->name));
        for (size_t j = 0; j < m->entities.n; j++) {
            const entity *e = m->entities.v[j];
            if (e->kind != QK_SCHEMA_COMMAND || !e->gen)
                continue;
            const char *cn = c_name(g, e->name, false);
            gen_if(g, h, e->ifcond);
            gen_proto(g, h, e);
            out(g, h, ";\nvoid qmp_marshal_%s(qk_json *args, qk_json **ret,\n"
                      "    qk_error **errp, void *opaque);\n", cn);
            gen_endif(g, h, e->ifcond);
            outs(g, h, "\n");
            gen_if(g, c, e->ifcond);
            gen_marshal(g, c, e);
            gen_endif(g, c, e->ifcond);
            gen_if(g, g->err ? body : body, e->ifcond);
            out(g, body,
                "    if (!r)\n        r = qk_command_table_add(cmds, \"%s\", qmp_marshal_%s,\n"
                "                                 %s, NULL);\n",
                e->name, cn, cmd_flags(g, e));
            gen_endif(g, body, e->ifcond);
        }
        outs(g, h, "#ifdef __cplusplus\n}\n#endif\n");
        gf_close_h(g, h);
        gf_close_c(g, c);
    }
    outs(g, body, "    return r;\n}\n");
    outs(g, ic, "\n");
    if (body->buf.len)
        if (qk_buf_append(&ic->buf, body->buf.data, body->buf.len))
            g->err = QK_ERR_NOMEM;
    qk_buf_free(&body->buf);
    gf_close_c(g, ic);
}
