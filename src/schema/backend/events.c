/* SPDX-License-Identifier: MIT */
/*
 * The events back end (checklist 4.5): per module, qapi-events-MODULE.h/.c
 * with a typed qapi_event_send_NAME() per event, which builds the "data"
 * object with the output visitor and hands the event to the emitter the
 * runtime installed (qk_event_emitter_set); events with a special feature
 * are dropped when the compat policy hides them. qapi-emit-events.h/.c
 * hold the PREFIXQAPIEvent enum of all events and its name table.
 */
#include <string.h>

#include "schema/backend/gen-int.h"

static bool has_args(const entity *e)
{
    return e->arg && !is_empty_object(e->arg);
}

static void gen_params(gen *g, gfile *f, const entity *e)
{
    size_t fl = strlen(f->name);
    bool h = fl > 2 && !strcmp(f->name + fl - 2, ".h");
    if (e->boxed && e->arg) {
        out(g, f, "%s *arg", c_name(g, e->arg->name, false));
        return;
    }
    if (!has_args(e)) {
        outs(g, f, "void");
        return;
    }
    outs(g, f, "\n");
    for (size_t i = 0; i < e->arg->all_members.n; i++) {
        const member *m = e->arg->all_members.v[i];
        gen_if(g, f, m->ifcond);
        outs(g, f, "    ");
        if (need_has(m))
            out(g, f, "bool has_%s, ", c_name(g, m->name, true));
        const char *t = c_param_type(g, m->type);
        out(g, f, "%s%s%s%s\n", t, type_sep(t),
            (h ? c_name_cxx(g, m->name) : c_name(g, m->name, true)),
            i + 1 < e->arg->all_members.n ? "," : "");
        gen_endif(g, f, m->ifcond);
    }
}

static const char *event_const(gen *g, const char *name)
{
    return c_enum_const2(g, gs(g, "%sQAPIEvent", g->cprefix), name, NULL);
}

void gen_events(gen *g)
{
    const char *emit = gs(g, "%sqapi-emit-events", g->prefix);
    gfile *eh, *ec;
    gf_open_pair(g, emit, "Schema-defined QAPI/QMP events: the event enum", &eh, &ec);
    const char *en = gs(g, "%sQAPIEvent", g->cprefix);
    out(g, eh, "#include \"qmpkit/rt.h\"\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
               "typedef enum %s {\n", en);
    out(g, ec, "#include \"%s.h\"\n\nstatic const char *const %s_array[%s + 1] = {\n",
        emit, en, event_const(g, "_MAX"));
    for (const entity *e = g->s->first; e; e = e->next) {
        if (e->kind != QK_SCHEMA_EVENT)
            continue;
        out(g, eh, "    %s,\n", event_const(g, e->name));
        out(g, ec, "    [%s] = \"%s\",\n", event_const(g, e->name), e->name);
    }
    out(g, eh, "    %s,\n} %s;\n\n#define %s_str(val) qk_enum_str(&%s_lookup, (val))\n\n"
               "extern const QEnumLookup %s_lookup;\n\n"
               "#ifdef __cplusplus\n}\n#endif\n",
        event_const(g, "_MAX"), en, en, en, en);
    out(g, ec, "};\n\nconst QEnumLookup %s_lookup = {\n    %s_array,\n    NULL,\n    %s,\n};\n",
        en, en, event_const(g, "_MAX"));
    gf_close_h(g, eh);
    gf_close_c(g, ec);

    for (size_t i = 0; i < g->s->modules.n; i++) {
        const module *m = g->s->modules.v[i];
        if (module_is_builtin(m))
            continue;
        const char *base = module_fname(g, m, "qapi-events");
        gfile *h, *c;
        gf_open_pair(g, base, "Schema-defined QAPI/QMP events", &h, &c);
        out(g, h, "#include \"%s\"\n",
            rel_include(g, h->name,
                        gs(g, "%s.h", module_fname(g, m, "qapi-visit"))));
        gf_begin_pair(g, h, c);
        for (size_t j = 0; j < m->entities.n; j++) {
            const entity *e = m->entities.v[j];
            if (e->kind != QK_SCHEMA_EVENT)
                continue;
            const char *fn = gs(g, "qapi_event_send_%s", c_lower(g, e->name));
            gen_if(g, h, e->ifcond);
            out(g, h, "void %s(", fn);
            gen_params(g, h, e);
            outs(g, h, ");\n");
            gen_endif(g, h, e->ifcond);
            outs(g, h, "\n");

            gen_if(g, c, e->ifcond);
            out(g, c, "void %s(", fn);
            gen_params(g, c, e);
            outs(g, c, ")\n{\n    qk_json *data = NULL;\n");
            if (has_special_feature(e->features))
                out(g, c, "    if (qk_policy_output_hidden(%s))\n        return;\n",
                    special_mask(g, e->features));
            if (e->arg) {
                const char *an = c_name(g, e->arg->name, false);
                outs(g, c, "    data = qk_json_object_new();\n"
                           "    if (!data)\n        return;\n");
                if (e->boxed) {
                    out(g, c, "    if (!visit_out_%s_members(data, arg)) {\n", an);
                } else {
                    out(g, c, "    %s param;\n    memset(&param, 0, sizeof(param));\n", an);
                    for (size_t k = 0; k < e->arg->all_members.n; k++) {
                        const member *mb = e->arg->all_members.v[k];
                        const char *mn = c_name(g, mb->name, true);
                        gen_if(g, c, mb->ifcond);
                        if (need_has(mb))
                            out(g, c, "    param.has_%s = has_%s;\n",
                                c_name(g, mb->name, true),
                                c_name(g, mb->name, true));
                        out(g, c, "    param.%s = (%s)%s;\n", mn,
                            c_type(g, mb->type), mn);
                        gen_endif(g, c, mb->ifcond);
                    }
                    out(g, c, "    if (!visit_out_%s_members(data, &param)) {\n", an);
                }
                outs(g, c, "        qk_json_unref(data);\n        return;\n    }\n");
            }
            out(g, c, "    qk_event_emit(\"%s\", data);\n}\n\n", e->name);
            gen_endif(g, c, e->ifcond);
        }
        outs(g, h, "#ifdef __cplusplus\n}\n#endif\n");
        gf_close_h(g, h);
        gf_close_c(g, c);
    }
}
