/* SPDX-License-Identifier: MIT */
/*
 * The code generator's driver and shared helpers (checklist 1.11 for
 * names, 4 for files): runs the back ends in QEMU's order (types,
 * features, visit, commands, events, introspect) and hands each file to
 * the caller. The back ends only read the checked model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc-int.h"
#include "schema/backend/gen-int.h"

/* ---- string pool ---- */

/* A bump allocator in 64 KiB chunks: generation makes hundreds of
 * thousands of short strings and frees them all at the end. */
struct gpool {
    struct gpool *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

void *galloc(gen *g, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    gpool *p = g->pool;
    if (!p || p->cap - p->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        p = qk_malloc(sizeof(*p) + cap);
        if (!p) {
            g->err = QK_ERR_NOMEM;
            return NULL;
        }
        p->used = 0;
        p->cap = cap;
        if (g->pool && n > 65536) { /* keep filling the current chunk */
            p->next = g->pool->next;
            g->pool->next = p;
        } else {
            p->next = g->pool;
            g->pool = p;
        }
    }
    void *r = p->data + p->used;
    p->used += n;
    return r;
}

void *gzalloc(gen *g, size_t n)
{
    void *p = galloc(g, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *gs(gen *g, const char *fmt, ...)
{
    va_list ap;
    qk_buf_clear(&g->tmp);
    va_start(ap, fmt);
    int e = gvfmt(g, &g->tmp, fmt, ap);
    va_end(ap);
    char *r = e ? NULL : galloc(g, g->tmp.len + 1);
    if (!r) {
        g->err = QK_ERR_NOMEM;
        return (char *)"";
    }
    memcpy(r, g->tmp.data ? g->tmp.data : "", g->tmp.len);
    r[g->tmp.len] = 0;
    return r;
}

char *gdup(gen *g, const char *s)
{
    return gs(g, "%s", s);
}

/* ---- names ---- */

/* C, GCC and C++ keywords and polluted names (sorted for bsearch). */
static const char *const protected_words[] = {
    "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic",
    "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local", "and",
    "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case",
    "catch", "char", "class", "compl", "const", "const_cast", "continue",
    "default", "delete", "do", "double", "dynamic_cast", "else", "enum",
    "errno", "explicit", "extern", "false", "float", "for", "friend", "goto",
    "i386", "if", "inline", "int", "linux", "long", "mips", "mutable",
    "namespace", "new", "not", "not_eq", "operator", "or", "or_eq", "private",
    "protected", "public", "register", "reinterpret_cast", "restrict",
    "return", "short", "signed", "sizeof", "sparc", "static", "static_cast",
    "struct", "switch", "template", "this", "throw", "true", "try", "typedef",
    "typeid", "typename", "typeof", "union", "unix", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
};

/* C++ keywords QEMU's c_name leaves alone: generated headers use q_NAME
 * for them under __cplusplus, so C code keeps QEMU's names (sorted for
 * bsearch: every member name is checked). */
static const char *const cxx_only_words[] = {
    "alignas", "alignof", "char16_t", "char32_t", "char8_t", "co_await",
    "co_return", "co_yield", "concept", "consteval", "constexpr",
    "constinit", "decltype", "export", "import", "noexcept", "nullptr",
    "requires", "static_assert", "thread_local",
};

static int cmp_word(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define IN_WORDS(name, words)                                            \
    (bsearch(&(name), words, sizeof(words) / sizeof(words[0]),          \
             sizeof(words[0]), cmp_word) != NULL)

bool cxx_keyword(const char *name)
{
    return name[0] >= 'a' && name[0] <= 't' && IN_WORDS(name, cxx_only_words);
}

const char *c_name_cxx(gen *g, const char *name)
{
    const char *r = c_name(g, name, true);
    return cxx_keyword(r) ? gs(g, "q_%s", r) : r;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* One pool block with room for a "q_" in front, one pass over the name. */
static const char *make_c_name(gen *g, const char *name, bool protect)
{
    size_t n = strlen(name);
    char *q = galloc(g, n + 3);
    if (!q)
        return "";
    char *r = q + 2;
    for (size_t i = 0; i < n; i++)
        r[i] = is_alnum(name[i]) || name[i] == '_' ? name[i] : '_';
    r[n] = 0;
    if (protect && ((r[0] >= '0' && r[0] <= '9') ||
                    ((r[0] == '_' || (r[0] >= 'a' && r[0] <= 'x')) &&
                     IN_WORDS(r, protected_words)))) {
        q[0] = 'q';
        q[1] = '_';
        return q;
    }
    return r;
}

/* This runs for every name in every generated line: memoised. */
const char *c_name(gen *g, const char *name, bool protect)
{
    enum gmemo_what w = protect ? GMEMO_CNAME_PROTECT : GMEMO_CNAME;
    const char *r = gmemo_get(&g->names, name, w);
    if (!r) {
        r = make_c_name(g, name, protect);
        gmemo_put(&g->names, name, w, (void *)r);
    }
    return r;
}

const char *c_lower(gen *g, const char *name)
{
    char *r = gdup(g, c_name(g, name, false));
    for (char *p = r; *p; p++)
        if (is_upper(*p))
            *p = (char)(*p - 'A' + 'a');
    return r;
}

static char *upper(gen *g, const char *s)
{
    char *r = gdup(g, s);
    for (char *p = r; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return r;
}

/* Upper-case c_name(NAME, false): enum constants and feature names. */
static const char *upper_c_name(gen *g, const char *name)
{
    const char *r = gmemo_get(&g->names, name, GMEMO_UPPER_CNAME);
    if (!r) {
        r = upper(g, c_name(g, name, false));
        gmemo_put(&g->names, name, GMEMO_UPPER_CNAME, (void *)r);
    }
    return r;
}

static const char *make_camel_to_upper(gen *g, const char *value)
{
    size_t n = strlen(value);
    char *ret = galloc(g, 2 * n + 2);
    if (!ret)
        return "";
    size_t len = 0;
    ret[len++] = value[0];
    bool upc = is_upper(value[0]);
    for (size_t i = 1; i < n; i++) {
        char ch = value[i];
        if (is_upper(ch) == upc) {
            /* nothing */
        } else if (upc) {
            if (len > 2 && is_alnum(ret[len - 2])) {
                ret[len] = ret[len - 1];
                ret[len - 1] = '_';
                len++;
            }
        } else if (is_upper(ch)) {
            if (is_alnum(ret[len - 1]))
                ret[len++] = '_';
        }
        ret[len++] = ch;
        upc = is_upper(ch);
    }
    ret[len] = 0;
    const char *r = make_c_name(g, upper(g, ret), true);
    while (*r == '_')
        r++;
    return r;
}

const char *camel_to_upper(gen *g, const char *value)
{
    const char *r = gmemo_get(&g->names, value, GMEMO_CAMEL_UPPER);
    if (!r) {
        r = make_camel_to_upper(g, value);
        gmemo_put(&g->names, value, GMEMO_CAMEL_UPPER, (void *)r);
    }
    return r;
}

const char *c_enum_const2(gen *g, const char *type, const char *value,
                          const char *prefix)
{
    if (prefix && prefix[0])
        return gs(g, "%s_%s", prefix, upper_c_name(g, value));
    return gs(g, "%s_%s", camel_to_upper(g, type), upper_c_name(g, value));
}

const char *c_enum_const(gen *g, const entity *e, const char *value)
{
    return c_enum_const2(g, e->name, value, e->prefix);
}

/* ---- files ---- */

gfile *gf_new(gen *g, const char *name)
{
    gfile *f = qk_calloc(1, sizeof(*f));
    char *n = qk_strdup(name);
    if (!f || !n) {
        qk_free(f);
        qk_free(n);
        g->err = QK_ERR_NOMEM;
        /* the back end carries on writing into a file nobody gets */
        g->lost.name = (char *)"lost";
        return &g->lost;
    }
    f->name = n;
    if (g->nspare)
        f->buf = g->spare[--g->nspare];
    *g->last = f;
    g->last = &f->next;
    return f;
}

void out(gen *g, gfile *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (gvfmt(g, &f->buf, fmt, ap))
        g->err = QK_ERR_NOMEM;
    va_end(ap);
}

void outs(gen *g, gfile *f, const char *s)
{
    if (qk_buf_append_str(&f->buf, s))
        g->err = QK_ERR_NOMEM;
}

static const char *guard(gen *g, const char *fname)
{
    const char *base = strrchr(fname, '/');
    base = base ? base + 1 : fname;
    return upper_c_name(g, base);
}

static void preamble(gen *g, gfile *f, const char *blurb)
{
    out(g, f,
        "/* AUTOMATICALLY GENERATED by qmpkit qapi-gen, DO NOT MODIFY */\n"
        "\n"
        "/*\n"
        " * %s\n"
        " */\n\n",
        blurb);
}

void gf_open_h(gen *g, gfile *f, const char *blurb)
{
    preamble(g, f, blurb);
    const char *gd = guard(g, f->name);
    out(g, f, "#ifndef %s\n#define %s\n\n", gd, gd);
}

/* Hands a finished file to the caller and drops its text, keeping the
 * buffer for a later file: growing a fresh one for each of hundreds of
 * files cost page faults and copies. */
static void gf_emit(gen *g, gfile *f)
{
    if (!g->err) {
        int r = g->fn(g->opaque, f->name, f->buf.data ? f->buf.data : "",
                      f->buf.len);
        if (r)
            g->err = r;
    }
    if (g->nspare < sizeof(g->spare) / sizeof(g->spare[0])) {
        qk_buf_clear(&f->buf);
        g->spare[g->nspare++] = f->buf;
        f->buf = (qk_buf)QK_BUF_INIT;
    } else {
        qk_buf_free(&f->buf);
    }
}

void gf_close_h(gen *g, gfile *f)
{
    out(g, f, "\n#endif /* %s */\n", guard(g, f->name));
    gf_emit(g, f);
}

void gf_open_c(gen *g, gfile *f, const char *blurb)
{
    preamble(g, f, blurb);
}

void gf_close_c(gen *g, gfile *f)
{
    const char *base = strrchr(f->name, '/');
    base = base ? base + 1 : f->name;
    out(g, f, "\nchar qapi_dummy_%s;\n", c_name(g, base, false));
    gf_emit(g, f);
}

void gf_open_pair(gen *g, const char *base, const char *blurb, gfile **h,
                  gfile **c)
{
    *h = gf_new(g, gs(g, "%s.h", base));
    *c = gf_new(g, gs(g, "%s.c", base));
    gf_open_h(g, *h, blurb);
    gf_open_c(g, *c, blurb);
}

void gf_begin_pair(gen *g, gfile *h, gfile *c)
{
    outs(g, h, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    out(g, c, "#include <string.h>\n\n#include \"%s\"\n\n",
        rel_include(g, c->name, h->name));
}

/* ---- conditions ---- */

static const char *cond_rec(gen *g, const qv *c, bool top)
{
    switch (c->kind) {
    case QV_STR:
        return gs(g, "defined(%s)", c->s);
    case QV_OBJ: {
        const char *op = c->obj[0].key;
        const qv *arg = c->obj[0].val;
        if (!strcmp(op, "not"))
            return gs(g, "!%s", cond_rec(g, arg, false));
        const char *sep = !strcmp(op, "all") ? " && " : " || ";
        const char *r = "";
        for (size_t i = 0; i < arg->n; i++)
            r = gs(g, "%s%s%s", r, i ? sep : "",
                   cond_rec(g, arg->list[i], false));
        if (arg->n == 0)
            r = !strcmp(op, "all") ? "1" : "0";
        return top || arg->n == 1 ? r : gs(g, "(%s)", r);
    }
    default:
        return "1";
    }
}

const char *cond_expr(gen *g, const qv *cond)
{
    return cond ? cond_rec(g, cond, true) : NULL;
}

void gen_if(gen *g, gfile *f, const qv *cond)
{
    if (cond)
        out(g, f, "#if %s\n", cond_expr(g, cond));
}

void gen_endif(gen *g, gfile *f, const qv *cond)
{
    if (cond)
        out(g, f, "#endif /* %s */\n", cond_expr(g, cond));
}

/* ---- types ---- */

bool is_builtin(const entity *t)
{
    return t->kind == QK_SCHEMA_BUILTIN;
}

bool is_implicit(const entity *t)
{
    return !strncmp(t->name, "q_", 2);
}

bool is_empty_object(const entity *t)
{
    return t->kind == QK_SCHEMA_OBJECT && t->all_members.n == 0 &&
           t->variants.n == 0;
}

bool is_ptr_type(const entity *t)
{
    if (t->kind == QK_SCHEMA_BUILTIN)
        return !strcmp(t->name, "str") || !strcmp(t->name, "any") ||
               !strcmp(t->name, "null");
    return t->kind != QK_SCHEMA_ENUM;
}

bool need_has(const member *m)
{
    return m->optional &&
           (!is_ptr_type(m->type) || m->type->kind == QK_SCHEMA_ARRAY);
}

const char *type_cname(gen *g, const entity *t)
{
    if (is_builtin(t))
        return t->name;
    return c_name(g, t->name, false);
}

static const char *builtin_ctype(const char *n)
{
    static const char *const map[][2] = {
        {"str", "char *"},       {"number", "double"},
        {"int", "int64_t"},      {"int8", "int8_t"},
        {"int16", "int16_t"},    {"int32", "int32_t"},
        {"int64", "int64_t"},    {"uint8", "uint8_t"},
        {"uint16", "uint16_t"},  {"uint32", "uint32_t"},
        {"uint64", "uint64_t"},  {"size", "uint64_t"},
        {"bool", "bool"},        {"any", "QObject *"},
        {"null", "QNull *"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(map[i][0], n))
            return map[i][1];
    return "void *";
}

const char *c_type(gen *g, const entity *t)
{
    switch (t->kind) {
    case QK_SCHEMA_BUILTIN:
        return builtin_ctype(t->name);
    case QK_SCHEMA_ENUM:
        return c_name(g, t->name, false);
    default:
        return gs(g, "%s *", c_name(g, t->name, false));
    }
}

const char *type_sep(const char *ctype)
{
    size_t n = strlen(ctype);
    return n && ctype[n - 1] == '*' ? "" : " ";
}

const char *c_param_type(gen *g, const entity *t)
{
    if (is_builtin(t) && !strcmp(t->name, "str"))
        return "const char *";
    return c_type(g, t);
}

const char *free_stmt(gen *g, const entity *t, const char *expr)
{
    switch (t->kind) {
    case QK_SCHEMA_BUILTIN:
        if (!strcmp(t->name, "str"))
            return gs(g, "qk_rt_free(%s);", expr);
        if (!strcmp(t->name, "any") || !strcmp(t->name, "null"))
            return gs(g, "qk_json_unref(%s);", expr);
        return NULL;
    case QK_SCHEMA_ENUM:
        return NULL;
    default:
        return gs(g, "qapi_free_%s(%s);", c_name(g, t->name, false), expr);
    }
}

static bool special(const char *n)
{
    return !strcmp(n, "deprecated") || !strcmp(n, "unstable");
}

const char *feature_const(gen *g, const char *n)
{
    return gs(g, "QAPI_FEATURE_%s", upper_c_name(g, n));
}

const char *feature_mask(gen *g, const vec *fs)
{
    const char *r = NULL;
    for (size_t i = 0; i < fs->n; i++) {
        const feature *f = fs->v[i];
        const char *t = gs(g, "(1ull << %s)", feature_const(g, f->name));
        if (f->ifcond) /* conditional features count only when defined */
            t = gs(g, "(%s)", t);
        r = r ? gs(g, "%s | %s", r, t) : t;
    }
    return r ? r : "0";
}

bool has_special_feature(const vec *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        if (special(((const feature *)fs->v[i])->name))
            return true;
    return false;
}

const char *special_mask(gen *g, const vec *fs)
{
    const char *r = NULL;
    for (size_t i = 0; i < fs->n; i++) {
        const feature *f = fs->v[i];
        if (!special(f->name))
            continue;
        const char *t = !strcmp(f->name, "deprecated")
                            ? "(1ull << QK_FEATURE_DEPRECATED)"
                            : "(1ull << QK_FEATURE_UNSTABLE)";
        r = r ? gs(g, "%s | %s", r, t) : t;
    }
    return r ? r : "0";
}

/* ---- modules ---- */

bool module_is_builtin(const module *m)
{
    return !strcmp(m->name, "./builtin");
}

bool module_is_outside(const module *m)
{
    return !strncmp(m->name, "../", 3);
}

void gen_module_includes(gen *g, gfile *h, const module *m, const char *what)
{
    for (size_t i = 0; i < m->entities.n; i++) {
        const entity *e = m->entities.v[i];
        if (e->kind == QK_SCHEMA_INCLUDE)
            out(g, h, "#include \"%s\"\n",
                rel_include(g, h->name,
                            gs(g, "%s.h", module_fname(g, e->incl, what))));
    }
}

const char *module_fname(gen *g, const module *m, const char *what)
{
    if (m->name[0] == '.' && m->name[1] == '/') {
        /* system module: qapi-types -> qapi-builtin-types */
        const char *dash = strchr(what, '-');
        size_t pl = dash ? (size_t)(dash - what) : strlen(what);
        return gs(g, "%s%.*s-%s%s", module_is_builtin(m) ? "" : g->prefix,
                  (int)pl, what, m->name + 2, dash ? dash : "");
    }
    const char *slash = strrchr(m->name, '/');
    const char *dir = slash ? gs(g, "%.*s/", (int)(slash - m->name + 1) - 1,
                                 m->name)
                            : "";
    const char *base = slash ? slash + 1 : m->name;
    size_t bl = strlen(base);
    if (bl > 5 && !strcmp(base + bl - 5, ".json"))
        bl -= 5;
    if (!strcmp(m->name, g->main_module))
        return gs(g, "%s%s%s", dir, g->prefix, what);
    return gs(g, "%s%s%s-%.*s", dir, g->prefix, what, (int)bl, base);
}

const char *rel_include(gen *g, const char *from, const char *to)
{
    /* directory components of from vs components of to */
    const char *fe = strrchr(from, '/');
    size_t flen = fe ? (size_t)(fe - from) : 0;
    size_t i = 0, common = 0;
    /* longest common prefix ending at a '/' */
    while (i < flen && from[i] == to[i]) {
        i++;
        if (to[i] == '/' && (i == flen || from[i] == '/'))
            common = i + 1;
    }
    if (flen && i == flen && to[i] == '/')
        common = i + 1;
    const char *r = "";
    size_t ups = 0;
    for (size_t j = common; j < flen; j++)
        if (j == common || from[j - 1] == '/')
            ups++;
    for (size_t j = 0; j < ups; j++)
        r = gs(g, "%s../", r);
    return gs(g, "%s%s", r, to + common);
}

/* ---- driver ---- */

static void free_all(gen *g)
{
    gmemo_free(&g->fmts);
    gmemo_free(&g->names);
    qk_buf_free(&g->lost.buf);
    qk_buf_free(&g->tmp);
    while (g->nspare)
        qk_buf_free(&g->spare[--g->nspare]);
    while (g->pool) {
        gpool *n = g->pool->next;
        qk_free(g->pool);
        g->pool = n;
    }
    while (g->files) {
        gfile *n = g->files->next;
        qk_buf_free(&g->files->buf);
        qk_free(g->files->name);
        qk_free(g->files);
        g->files = n;
    }
}

int qk_schema_generate(const qk_schema *s, const qk_gen_options *opt,
                       qk_gen_file_fn fn, void *opaque)
{
    if (!s || !fn)
        return QK_ERR_INVAL;
    if (!s->ok)
        return QK_ERR_STATE;
    gen g = {0};
    g.s = s;
    g.prefix = opt && opt->prefix ? opt->prefix : "";
    for (const char *p = g.prefix; *p; p++)
        if (!(is_alnum(*p) || *p == '_' || *p == '.' || *p == '-') ||
            (p == g.prefix && *p >= '0' && *p <= '9'))
            return QK_ERR_INVAL;
    g.builtins = opt && opt->builtins;
    g.unmask = opt && opt->unmask;
    g.last = &g.files;
    g.fn = fn;
    g.opaque = opaque;
    g.cprefix = c_name(&g, g.prefix, false);
    g.main_module = "";
    for (size_t i = 0; i < s->modules.n; i++) {
        const module *m = s->modules.v[i];
        if (strncmp(m->name, "./", 2)) {
            g.main_module = m->name;
            break;
        }
    }
    gen_types(&g);
    gen_features(&g);
    gen_visit(&g);
    gen_commands(&g);
    gen_events(&g);
    gen_introspect(&g);
    int r = g.err;
    free_all(&g);
    return r;
}
