/* SPDX-License-Identifier: MIT */
/*
 * Reads the query-qmp-schema value generated from QEMU's schema back
 * through the generated SchemaInfoList input visitor, writes it out again
 * (must be equal), checks the command and event counts given on the
 * command line and that every type name referenced is defined.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qapi-introspect.h"
#include "qapi-visit-introspect.h"

static int failures;

#define CHECK(c)                                                             \
    do {                                                                     \
        if (!(c)) {                                                          \
            failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #c);                                                     \
        }                                                                    \
    } while (0)

static const SchemaInfoList *all;

static bool defined(const char *name)
{
    for (const SchemaInfoList *l = all; l; l = l->next)
        if (!strcmp(l->value->name, name))
            return true;
    fprintf(stderr, "undefined type %s\n", name);
    return false;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long want_cmds = atol(argv[1]), want_evs = atol(argv[2]);
    qk_json *v = qmp_schema_new();
    CHECK(v);
    SchemaInfoList *list = NULL;
    qk_error *err = NULL;
    if (!visit_type_SchemaInfoList(NULL, NULL, v, &list, &err)) {
        fprintf(stderr, "read back: %s\n", qk_error_get_desc(err));
        return 1;
    }
    qk_json *back = visit_out_SchemaInfoList(list);
    CHECK(back && qk_json_equal(v, back));
    all = list;
    long n = 0, cmds = 0, evs = 0, types = 0, refs = 0;
    for (const SchemaInfoList *l = list; l; l = l->next) {
        const SchemaInfo *i = l->value;
        n++;
        switch (i->meta_type) {
        case SCHEMA_META_TYPE_COMMAND:
            cmds++;
            CHECK(defined(i->u.command.arg_type));
            CHECK(defined(i->u.command.ret_type));
            refs += 2;
            break;
        case SCHEMA_META_TYPE_EVENT:
            evs++;
            CHECK(defined(i->u.event.arg_type));
            refs++;
            break;
        case SCHEMA_META_TYPE_ARRAY:
            types++;
            CHECK(defined(i->u.array.element_type));
            refs++;
            break;
        case SCHEMA_META_TYPE_OBJECT:
            types++;
            for (SchemaInfoObjectMemberList *m = i->u.object.members; m;
                 m = m->next, refs++)
                CHECK(defined(m->value->type));
            for (SchemaInfoObjectVariantList *m = i->u.object.variants; m;
                 m = m->next, refs++)
                CHECK(defined(m->value->type));
            break;
        case SCHEMA_META_TYPE_ALTERNATE:
            types++;
            for (SchemaInfoAlternateMemberList *m = i->u.alternate.members; m;
                 m = m->next, refs++)
                CHECK(defined(m->value->type));
            break;
        default:
            types++;
            break;
        }
    }
    printf("SchemaInfo entries: %ld (%ld commands, %ld events, %ld types), "
           "%ld type references resolved\n", n, cmds, evs, types, refs);
    CHECK(cmds == want_cmds);
    CHECK(evs == want_evs);
    qapi_free_SchemaInfoList(list);
    qk_json_unref(back);
    qk_json_unref(v);
    qk_error_free(err);
    return failures ? 1 : 0;
}
