/* SPDX-License-Identifier: MIT */
/*
 * The features back end (checklist 4.2): PREFIXqapi-features.h with the
 * QapiFeature enum, the special features deprecated and unstable first
 * (bit numbers shared with the runtime's policy hooks), then every other
 * feature in order of first appearance. Feature sets elsewhere are masks
 * (1ull << QAPI_FEATURE_X).
 */
#include <string.h>

#include "schema/backend/gen-int.h"

void gen_features(gen *g)
{
    gfile *h = gf_new(g, gs(g, "%sqapi-features.h", g->prefix));
    gf_open_h(g, h, "Schema-defined QAPI features");
    outs(g, h, "#include \"qmpkit/rt.h\"\n\n"
               "typedef enum {\n"
               "    QAPI_FEATURE_DEPRECATED = QK_FEATURE_DEPRECATED,\n"
               "    QAPI_FEATURE_UNSTABLE = QK_FEATURE_UNSTABLE,\n");
    for (size_t i = 0; i < g->s->feature_names.n; i++) {
        const feature *f = g->s->feature_names.v[i];
        if (!strcmp(f->name, "deprecated") || !strcmp(f->name, "unstable"))
            continue;
        out(g, h, "    %s,\n", feature_const(g, f->name));
    }
    outs(g, h, "    QAPI_FEATURE__MAX\n} QapiFeature;\n");
    gf_close_h(g, h);
}
