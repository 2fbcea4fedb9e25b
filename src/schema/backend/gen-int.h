/* SPDX-License-Identifier: MIT */
/*
 * Shared state and helpers of the code-generating back ends (checklist 4):
 * output files, C names (c_name, camel_to_upper, enum constants), C types
 * of schema types, and `if` conditions as preprocessor expressions. Each
 * back end (types.c, visit.c, commands.c, events.c, introspect.c,
 * features.c) is one gen_backend; gen.c runs them in QEMU's order.
 *
 * Memory: transient strings come from a pool freed when generation ends;
 * running out of memory sets g->err and generation carries on producing
 * garbage that is never written.
 */
#ifndef QK_GEN_INT_H
#define QK_GEN_INT_H

#include <stdarg.h>

#include "qmpkit/schema-gen.h"
#include "schema/schema-int.h"

typedef struct gfile {
    char *name;          /* relative to the output directory */
    qk_buf buf;
    struct gfile *next;
} gfile;

typedef struct gpool gpool;
typedef struct gmemo_slot gmemo_slot;
typedef struct gmemo {       /* see memo.c */
    gmemo_slot *tab;
    size_t n, cap;
} gmemo;

typedef struct gen {
    const qk_schema *s;
    const char *prefix;      /* as given */
    const char *cprefix;     /* c_name(prefix, false) */
    bool builtins, unmask;
    int err;
    gfile *files, **last;
    gpool *pool;
    const char *main_module;
    qk_gen_file_fn fn;       /* receives each file when it is closed */
    void *opaque;
    qk_buf tmp;              /* scratch for gs() */
    qk_buf spare[4];         /* buffers of emitted files, for new ones */
    size_t nspare;
    gfile lost;              /* stands in for a file that could not be made */
    gmemo fmts;              /* formats' pieces (fmt.c), a few hundred */
    gmemo names;             /* derived names, a few thousand */
} gen;

/* ---- memo (memo.c) ---- */
/* What a memoised value was derived from its key string (1..7: memo.c
 * keeps it in the low bits of the key). */
enum gmemo_what {
    GMEMO_FMT = 1,       /* a format's pieces (fmt.c) */
    GMEMO_CNAME,         /* c_name(key, false) */
    GMEMO_CNAME_PROTECT, /* c_name(key, true) */
    GMEMO_CAMEL_UPPER,   /* camel_to_upper(key) */
    GMEMO_UPPER_CNAME,   /* upper-case c_name(key, false) */
};
/* KEY must live until generation ends; NULL when not memoised yet. */
void *gmemo_get(const gmemo *m, const void *key, enum gmemo_what what);
void gmemo_put(gmemo *m, const void *key, enum gmemo_what what, void *val);
void gmemo_free(gmemo *m);

/* ---- strings ---- */
/* Appends FMT's expansion (fmt.c lists the conversions) to B. */
int gvfmt(gen *g, qk_buf *b, const char *fmt, va_list ap);
char *gs(gen *g, const char *fmt, ...) QK_PRINTF(2, 3);
void *galloc(gen *g, size_t n);    /* pool memory, freed at the end */
void *gzalloc(gen *g, size_t n);   /* zeroed */
char *gdup(gen *g, const char *s);
/* c_name: non-[A-Za-z0-9_] to '_'; protect: q_ before keywords etc. */
const char *c_name(gen *g, const char *name, bool protect);
/* c_name, plus q_ before C++-only keywords (header parameter names). */
const char *c_name_cxx(gen *g, const char *name);
bool cxx_keyword(const char *cname);
const char *camel_to_upper(gen *g, const char *name);
/* Enum constant for VALUE of enum type E (prefix honoured). */
const char *c_enum_const(gen *g, const entity *e, const char *value);
const char *c_enum_const2(gen *g, const char *type, const char *value,
                          const char *prefix);
/* lower-case c_name */
const char *c_lower(gen *g, const char *name);

/* ---- files ---- */
gfile *gf_new(gen *g, const char *name);
void out(gen *g, gfile *f, const char *fmt, ...) QK_PRINTF(3, 4);
void outs(gen *g, gfile *f, const char *s);
/* Header/trailer boilerplate. */
void gf_open_h(gen *g, gfile *f, const char *blurb);
void gf_close_h(gen *g, gfile *f);
void gf_open_c(gen *g, gfile *f, const char *blurb);
void gf_close_c(gen *g, gfile *f);
/* New BASE.h and BASE.c, both opened with BLURB. */
void gf_open_pair(gen *g, const char *base, const char *blurb, gfile **h,
                  gfile **c);
/* After H's #include lines: opens its extern "C" block, and starts C with
 * <string.h> and H. */
void gf_begin_pair(gen *g, gfile *h, gfile *c);

/* ---- conditions ---- */
/* "defined(A) && ..." for an if condition, NULL when cond is NULL. */
const char *cond_expr(gen *g, const qv *cond);
void gen_if(gen *g, gfile *f, const qv *cond);
void gen_endif(gen *g, gfile *f, const qv *cond);

/* ---- types ---- */
bool is_builtin(const entity *t);
bool is_implicit(const entity *t);        /* q_obj_..., q_empty */
bool is_empty_object(const entity *t);    /* no members, no variants */
bool is_ptr_type(const entity *t);
bool need_has(const member *m);
/* Name used in visit_type_NAME, visit_out_NAME, qapi_free_NAME. */
const char *type_cname(gen *g, const entity *t);
/* C type of a member/return value ("char *", "int64_t", "Foo *"). */
const char *c_type(gen *g, const entity *t);
/* What goes between C type CTYPE and a name: nothing after a '*'. */
const char *type_sep(const char *ctype);
/* C type as a parameter ("const char *" for str). */
const char *c_param_type(gen *g, const entity *t);
/* Statement freeing EXPR of type t, or NULL when nothing is needed. */
const char *free_stmt(gen *g, const entity *t, const char *expr);
/* Feature masks. */
const char *feature_const(gen *g, const char *name);
const char *feature_mask(gen *g, const vec *features);
bool has_special_feature(const vec *features);
const char *special_mask(gen *g, const vec *features);

/* Module file names: PREFIX + what + -module, in the module's dir. */
const char *module_fname(gen *g, const module *m, const char *what);
/* Path of header `to` relative to the directory of `from`. */
const char *rel_include(gen *g, const char *from, const char *to);
bool module_is_builtin(const module *m);
bool module_is_outside(const module *m);   /* name starts with ../ */
/* An #include in H of the WHAT header of each module M includes. */
void gen_module_includes(gen *g, gfile *h, const module *m, const char *what);

/* ---- back ends ---- */
void gen_types(gen *g);
void gen_features(gen *g);
void gen_visit(gen *g);
void gen_commands(gen *g);
void gen_events(gen *g);
void gen_introspect(gen *g);

#endif
