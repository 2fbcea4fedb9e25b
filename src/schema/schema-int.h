/* SPDX-License-Identifier: MIT */
/*
 * Internal model of the QAPI schema front end, shared by its stages:
 * parser.c (lexer, values, directives), doc.c (doc comments), expr.c
 * (expression checks), model.c (entities, resolution, checks), dump.c
 * (QEMU test-harness dump), diag.c (source locations, diagnostics),
 * arena.c (memory).
 *
 * Memory: everything lives in the context's arenas (arena.c); the parsed
 * values in their own, freed as the model is built. Errors and
 * out-of-memory unwind to the public entry point with longjmp, mirroring
 * the way QEMU's generator raises on the first error; nothing is leaked
 * because the context owns it all.
 */
#ifndef QK_SCHEMA_INT_H
#define QK_SCHEMA_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmpkit/schema.h"

typedef struct qk_schema qs;

/* ---- arena (arena.c) ---- */

typedef struct arena_chunk arena_chunk;
void *qs_alloc(qs *s, size_t n);          /* zeroed; never NULL (unwinds) */
char *qs_alloc_text(qs *s, size_t n);     /* same, unaligned: for strings */
char *qs_strndup(qs *s, const char *p, size_t n);
char *qs_strdup(qs *s, const char *p);
char *qs_printf(qs *s, const char *fmt, ...) QK_PRINTF(2, 3);
void qs_oom(qs *s) __attribute__((noreturn));                     /* unwinds with QK_ERR_NOMEM */
void qs_arena_free(qs *s);
/* Scratch arena for transient strings (messages being built, c_names,
 * paths); emptied by qs_scratch_reset() between expressions/entities. */
void *qs_talloc(qs *s, size_t n);
char *qs_tprintf(qs *s, const char *fmt, ...) QK_PRINTF(2, 3);
char *qs_tstrdup(qs *s, const char *p);
/* A concatenation of up to four strings (pass "" for the unused ones), in
 * the arena or in scratch. The names a valid schema makes come from these,
 * not from the printf family: cheaper, and a compile then never touches
 * libc's formatting code (a few hundred KB of it become resident). */
char *qs_cat(qs *s, const char *a, const char *b, const char *c,
             const char *d);
char *qs_tcat(qs *s, const char *a, const char *b, const char *c,
              const char *d);
void qs_scratch_reset(qs *s);
/*
 * Values arena: the parsed values of the expressions, in parse order. Each
 * expression records the newest chunk when it was added (qs_vals_mark());
 * once it is checked and defined, the chunks before that mark hold only
 * values of finished expressions and are freed, so the model grows into
 * the memory the values leave.
 */
void *qs_valloc(qs *s, size_t n);         /* zeroed; never NULL */
arena_chunk *qs_vals_mark(qs *s);
void qs_vals_release_before(arena_chunk *mark);
/* Memory for the parse as a whole (the interned strings' qv headers, shared
 * by many expressions), freed with the values by qs_vals_free(). */
void *qs_palloc(qs *s, size_t n);
void qs_vals_free(qs *s);

/* A growable array of pointers in the arena. */
typedef struct vec {
    void **v;
    uint32_t n, cap;
} vec;
void vec_push(qs *s, vec *a, void *p);
void vec_tpush(qs *s, vec *a, void *p);   /* storage in scratch */
void vec_compact(qs *s, vec *a);          /* exact-size copy in the arena */
void vec_reserve(qs *s, vec *a, size_t n);/* room for n more, exactly */
/* Storage from the heap (realloc), for the long lists that grow one by one
 * (expressions, doc blocks, a module's entities): in the arena, every
 * outgrown copy would stay behind. Released with vec_hfree(). */
void vec_hpush(qs *s, vec *a, void *p);
void vec_hfree(vec *a);

/* A growable string in the arena; p is NUL-terminated once non-empty. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;
void sb_add(qs *s, sbuf *b, const char *p, size_t n);
void sb_adds(qs *s, sbuf *b, const char *p);
void sb_printf(qs *s, sbuf *b, const char *fmt, ...) QK_PRINTF(3, 4);

/* String-keyed hash map (arena.c). */
typedef struct hmap_slot {
    const char *key;
    void *val;
} hmap_slot;
typedef struct hmap {
    hmap_slot *slots;
    uint32_t n, cap;
    bool heap;               /* slots from qk_malloc (see hmap_free) */
    bool tmp;                /* slots in the scratch arena */
} hmap;
void hmap_free(hmap *m);
void *hmap_get(const hmap *m, const char *key);
void *hmap_get_n(const hmap *m, const char *key, size_t n);
void hmap_put(qs *s, hmap *m, const char *key, void *val);
/* The slot of KEY (N bytes, not NUL-terminated) or, if absent, the free
 * slot to fill for it: one hash and one probe to find or add. A filled
 * free slot must be counted (m->n++). */
hmap_slot *hmap_slot_n(qs *s, hmap *m, const char *key, size_t n);
/* Room for N keys in one step, so no outgrown tables are left behind. */
void hmap_reserve(qs *s, hmap *m, size_t n);

/* ---- source locations (diag.c) ---- */

/* Pragma exception lists, as sets (a later pragma replaces a set). */
typedef struct pragma_state {
    bool doc_required;
    hmap command_name_exceptions;
    hmap command_returns_exceptions;
    hmap documentation_exceptions;
    hmap member_name_exceptions;
} pragma_state;

/* 32 bytes: one per source line that starts something (thousands). */
typedef struct srcinfo {
    const char *fname;        /* as opened (joined with includer's dir) */
    struct srcinfo *parent;   /* the include directive's info, or NULL */
    const char *defn_name;
    int line;
    uint8_t defn_meta;        /* index in qs_defn_metas; 0: none */
} srcinfo;

/* NULL, then "enum", "struct", "union", "alternate", "command", "event" */
extern const char *const qs_defn_metas[7];

/* Raise an error located at INFO (col 0: no column). Unwinds. */
void qs_error(qs *s, srcinfo *info, int col, const char *fmt, ...)
    QK_PRINTF(4, 5) __attribute__((noreturn));
/* Raise with an already-formatted message (may contain '\n'). */
void qs_error_msg(qs *s, srcinfo *info, int col, const char *msg)
    __attribute__((noreturn));
/* "LOCATION" prefix string (include chain, context, FILE:LINE). */
char *qs_info_str(qs *s, const srcinfo *info);
/* Error without any location. */
void qs_error_plain(qs *s, const char *msg) __attribute__((noreturn));

/* ---- values (parser.c) ---- */

typedef enum { QV_STR, QV_BOOL, QV_OBJ, QV_LIST } qv_kind;

typedef struct qv_pair {
    const char *key;
    struct qv *val;
} qv_pair;

/* 16 bytes: a schema has thousands of these, so the payload pointers
 * share storage and the entry count is 32-bit (the parser refuses more). */
typedef struct qv {
    uint8_t kind;           /* qv_kind */
    bool b;
    uint32_t n;             /* entries of obj / list */
    union {
        const char *s;      /* kind == QV_STR */
        qv_pair *obj;       /* kind == QV_OBJ */
        struct qv **list;   /* kind == QV_LIST */
    };
} qv;

qv *qv_get(const qv *obj, const char *key);   /* NULL if absent */
/* KEY of a long-form value, or the value itself in short form ('T' for
 * {'type': 'T'}, 'v' for {'name': 'v'}): shorthand is not rewritten. */
qv *qv_long(const qv *v, const char *key);
bool qv_has(const qv *obj, const char *key);
bool qv_truthy(const qv *v);
bool qv_list_has_str(const qv *list, const char *s);
qv *qv_new_str(qs *s, const char *str);
qv *qv_intern(qs *s, const char *str, size_t len);
qv *qv_new_obj1(qs *s, const char *key, qv *val);

/* ---- doc comments (doc.c) ---- */

enum doc_kind {
    DK_PLAIN, DK_MEMBER, DK_FEATURE, DK_RETURNS, DK_ERRORS, DK_SINCE, DK_TODO
};

/* QEMU's schema has about 6,000 sections: each is one allocation, its
 * text right after the 14-byte header (3,500 descriptions without text
 * take 16 bytes each). */
typedef struct doc_section {
    const char *name;        /* arg/feature sections */
    int line;                /* location: the doc block's file, this line */
    uint8_t kind;            /* enum doc_kind */
    bool connected;
    char text[];             /* NUL-terminated, unless the text is not kept
                                (lines have no NUL: strlen() is its length) */
} doc_section;

/* Name -> section indexes, only for blocks with many descriptions. */
typedef struct doc_index {
    hmap args, features;
} doc_index;

/* Without doc text (drop_doc_text), a block keeps only what the checks
 * need: its member and feature descriptions and the lines of its Returns
 * and Errors sections. The fields from body on exist only with text: the
 * block is allocated without them (72 bytes instead of 96). */
typedef struct qapi_doc {
    srcinfo *file;           /* any location in the block's file */
    int line;                /* of the opening "##" (doc_info()) */
    int returns_line;        /* of its Returns section; 0: none */
    int errors_line;         /* of its Errors section; 0: none */
    const char *symbol;      /* NULL: free-form */
    doc_index *idx;          /* NULL for small blocks */
    vec args;                /* of doc_section* (ordered) */
    vec features;
    /* text kept only */
    doc_section *body;
    vec sections;            /* other sections */
} qapi_doc;

/* ---- expressions ---- */

typedef struct qexpr {
    qv *expr;               /* in the values arena */
    srcinfo *info;
    qapi_doc *doc;
    arena_chunk *mark;      /* qs_vals_mark() after it; NULL: keep values */
    bool simple_union;      /* --compat=2015: desugared simple union */
} qexpr;

/* ---- parser state ---- */

typedef struct parser {
    qs *s;
    const char *fname;
    const char *src;
    size_t len;
    size_t cursor, pos, line_pos;
    char tok;               /* 0 at EOF */
    qv *val;                /* string / bool value; comment text in valstr */
    const char *valstr;     /* comment token text (NUL-terminated copy) */
    size_t vallen;
    srcinfo *info;          /* use parser_info(): created lazily per line */
    int line;
    unsigned depth;
    qv_pair *stack;         /* = s->stack (shared by all files) */
    size_t sp;
} parser;

srcinfo *parser_info(parser *p);

void parser_accept(parser *p, bool skip_comment);
void parser_error(parser *p, const char *fmt, ...) QK_PRINTF(2, 3)
    __attribute__((noreturn));
qapi_doc *doc_parse(parser *p);
/* The block's location (made on demand: only messages need it). */
srcinfo *doc_info(qs *s, const qapi_doc *doc);
void doc_parse_done(qs *s);  /* frees the parse buffers */
void doc_connect_member(qs *s, qapi_doc *doc, const char *role,
                        const char *name, srcinfo *info);
void doc_connect_feature(qs *s, qapi_doc *doc, const char *name,
                         srcinfo *info);
void doc_check(qs *s, qapi_doc *doc);
void doc_check_expr(qs *s, qapi_doc *doc, const qv *expr);

/* ---- model (model.c) ---- */

typedef struct feature {
    const char *name;
    srcinfo *info;
    qv *ifcond;
} feature;

enum member_role { ROLE_MEMBER, ROLE_BRANCH, ROLE_VALUE };

/* 56 bytes: QEMU's schema has about 4,000 members. */
typedef struct member {
    const char *name;
    srcinfo *info;
    const char *defined_in;
    union {                   /* the name until member_check resolves it */
        const char *type_name;
        struct entity *type;
    };
    qv *ifcond;
    const vec *features;      /* of feature*; never NULL (few have any) */
    uint8_t role;             /* enum member_role */
    bool optional;
    bool resolved;            /* type is set, type_name is gone */
} member;

/* The shared empty feature list of members and entities without
 * features. */
extern const vec qs_no_features;

typedef struct module {
    const char *name;
    vec entities;
} module;

/* QEMU's schema has about 1,400 entities. */
typedef struct entity {
    uint8_t kind;             /* qk_schema_kind */
    bool checked;
    bool members_done;        /* object */
    bool gen : 1, success_response : 1, boxed : 1, allow_oob : 1,
        allow_preconfig : 1, coroutine : 1; /* command, event */
    const char *name;
    const char *meta;         /* "built-in", "enum", "array", "struct",
                                 "union", "alternate", "command", "event" */
    srcinfo *info;
    qapi_doc *doc;
    qv *ifcond;
    const vec *features;      /* of feature*; never NULL */
    module *mod;
    struct entity *next;      /* definition order */
    vec members;              /* enum values / object local members */
    vec variants;             /* union/alternate branches (member*) */
    member *tag_member;       /* union (resolved) / alternate */
    union {                   /* by kind */
        const char *json_type;            /* builtin */
        struct {                          /* enum */
            const char *prefix;
            hmap value_idx;   /* value name -> member, when large */
        };
        struct {                          /* array */
            const char *elem_name;
            struct entity *elem;
        };
        struct {                          /* object */
            const char *base_name;
            struct entity *base;
            vec all_members;  /* after check */
            const char *tag_name;   /* union */
        };
        struct {                          /* command, event */
            const char *arg_name;
            struct entity *arg;
            const char *ret_name;   /* command */
            struct entity *ret;
        };
        module *incl;                     /* include */
    };
} entity;

struct qk_schema {
    jmp_buf jb;
    bool jb_set;
    arena_chunk *arena;
    arena_chunk *scratch;
    arena_chunk *vals;       /* parsed values (see qs_valloc) */
    arena_chunk *parse;      /* see qs_palloc */
    qk_schema_diag_fn diag;
    void *diag_opaque;
    qk_schema_read_fn reader;
    void *reader_opaque;
    int compat;
    bool drop_doc_text;      /* check only: doc section text not kept */
    unsigned max_depth, max_include_depth;
    bool used, ok;
    char *last_error;
    vec srcbufs;             /* source buffers being parsed (unwind frees) */
    vec srcmaps;             /* text mapping of each include depth */
    int pending_fd;          /* file being read (unwind closes), or -1 */
    /* parse output */
    pragma_state pragma;
    vec exprs;               /* of qexpr* */
    vec docs;                /* of qapi_doc* */
    hmap included;           /* absolute path -> (void*)1 */
    const char *root_fname;
    /* model */
    entity *first, *last;
    hmap entities;
    vec feature_names;       /* of feature* (first use) */
    hmap feature_dict;
    vec modules;
    hmap module_dict;
    const char *schema_dir;
    bool predefining;
    hmap strings;            /* interned string values */
    qv_pair *stack;          /* parser: entries of unfinished values */
    size_t stack_cap;
    sbuf doc_acc;            /* doc.c's text buffer, reused across blocks */
    qv qv_true, qv_false;
    entity *clash, *clash_with; /* first definition clash, raised after
                                   the expression checks */
    bool mod_cache_valid;
    const char *mod_cache_fname;
    module *mod_cache;
};

void qs_parse_root(qs *s, const char *fname, const char *data, size_t len);
void qs_unmap_texts(qs *s);  /* after the parse, or on unwind */
void qs_compat_2015(qs *s);
/* Checks one top-level expression (expr.c). */
void qs_check_expr(qs *s, qexpr *x);
/* The model (model.c): predefined entities, then each checked expression
 * defined, then the checks over the whole model. */
void qs_model_begin(qs *s);
void qs_def_expr(qs *s, qexpr *x);
void qs_model_finish(qs *s);

/* Names (model.c). */
char *qs_c_name(qs *s, const char *name);  /* unprotected; in scratch */
bool qs_c_name_eq(const char *a, const char *b);
bool qs_c_name_starts(const char *name, const char *prefix);
char *qs_path_abs(qs *s, const char *path);
char *qs_path_rel(qs *s, const char *path, const char *start);
char *qs_path_dirname(qs *s, const char *path);
char *qs_path_join(qs *s, const char *dir, const char *path);

#endif
