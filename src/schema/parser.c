/* SPDX-License-Identifier: MIT */
/*
 * Schema lexer and parser (qapi-code-gen.rst "Schema syntax"; checklist
 * 1.1-1.3). The schema is a sequence of JSON-like objects with single-quoted
 * strings, booleans and '#' comments. Directives (include, pragma) are
 * handled here; includes are parsed in place, so the expression list comes
 * out flattened in pre-order, as QEMU's generator builds it. Doc comments
 * are handed to doc.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc-int.h"
#include "schema/schema-int.h"

/* ---- values ---- */

qv *qv_get(const qv *obj, const char *key)
{
    if (!obj || obj->kind != QV_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->obj[i].key[0] == key[0] && !strcmp(obj->obj[i].key, key))
            return obj->obj[i].val;
    return NULL;
}

qv *qv_long(const qv *v, const char *key)
{
    return v->kind == QV_OBJ ? qv_get(v, key) : (qv *)v;
}

bool qv_has(const qv *obj, const char *key)
{
    return qv_get(obj, key) != NULL;
}

bool qv_truthy(const qv *v)
{
    if (!v)
        return false;
    switch (v->kind) {
    case QV_BOOL:
        return v->b;
    case QV_STR:
        return v->s[0] != 0;
    default:
        return v->n != 0;
    }
}

bool qv_list_has_str(const qv *list, const char *s)
{
    if (!list || list->kind != QV_LIST)
        return false;
    for (size_t i = 0; i < list->n; i++)
        if (list->list[i]->kind == QV_STR && !strcmp(list->list[i]->s, s))
            return true;
    return false;
}

/* Strings are interned: one immutable qv per distinct string. */
qv *qv_intern(qs *s, const char *str, size_t len)
{
    hmap_slot *slot = hmap_slot_n(s, &s->strings, str, len);
    if (slot->key)
        return slot->val;
    /* the text is a name the model keeps; the qv only serves the parse */
    qv *v = qs_palloc(s, sizeof(*v));
    v->kind = QV_STR;
    v->s = qs_strndup(s, str, len);
    slot->key = v->s;
    slot->val = v;
    s->strings.n++;
    return v;
}

qv *qv_new_str(qs *s, const char *str)
{
    qv *v = qs_valloc(s, sizeof(*v));
    v->kind = QV_STR;
    v->s = str;
    return v;
}

qv *qv_new_obj1(qs *s, const char *key, qv *val)
{
    qv *v = qs_valloc(s, sizeof(*v));
    v->kind = QV_OBJ;
    v->n = 1;
    v->obj = qs_valloc(s, sizeof(qv_pair));
    v->obj[0].key = key;
    v->obj[0].val = val;
    return v;
}

/* ---- lexer ---- */

static srcinfo *new_info(qs *s, const char *fname, srcinfo *parent)
{
    srcinfo *i = qs_alloc(s, sizeof(*i));
    i->fname = fname;
    i->line = 1;
    i->parent = parent;
    return i;
}

srcinfo *parser_info(parser *p)
{
    if (p->info->line != p->line) {
        srcinfo *ni = qs_alloc(p->s, sizeof(*ni));
        *ni = *p->info;
        ni->line = p->line;
        ni->defn_meta = 0;
        ni->defn_name = NULL;
        p->info = ni;
    }
    return p->info;
}

void parser_error(parser *p, const char *fmt, ...)
{
    int col = 1;
    for (size_t i = p->line_pos; i < p->pos; i++) {
        unsigned char c = (unsigned char)p->src[i];
        if ((c & 0xC0) == 0x80)
            continue; /* count code points, not bytes */
        if (c == '\t')
            col = (col + 7) % 8 + 1;
        else
            col++;
    }
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        qs_oom(p->s);
    char *msg = qs_alloc(p->s, (size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    qs_error_msg(p->s, parser_info(p), col, msg);
}

/* Python's str.isspace() for the ASCII range. */
static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool is_structural(char c)
{
    return c == '{' || c == '}' || c == ':' || c == ',' || c == '[' ||
           c == ']';
}

void parser_accept(parser *p, bool skip_comment)
{
    qs *s = p->s;
    for (;;) {
        /* blanks are most of the input outside comments: skipped here,
         * not through every test below (the NUL sentinel stops this) */
        while (p->src[p->cursor] == ' ')
            p->cursor++;
        p->pos = p->cursor;
        char c = p->src[p->cursor++];
        p->tok = c;
        p->val = NULL;
        p->valstr = NULL;

        if (c == '#') {
            /* '##' starts a doc comment; the 2015 language had none */
            if (p->src[p->cursor] == '#' && s->compat != 2015)
                skip_comment = false;
            const char *nl = memchr(p->src + p->cursor, '\n',
                                    p->len - p->cursor);
            p->cursor = (size_t)(nl - p->src);
            if (!skip_comment) {
                p->vallen = p->cursor - p->pos;
                p->valstr = p->src + p->pos; /* not NUL-terminated */
                return;
            }
        } else if (is_structural(c)) {
            return;
        } else if (c == '\'') {
            sbuf str = {0}; /* only for strings with escapes (rare) */
            size_t start = p->cursor;
            bool simple = true;
            bool esc = false;
            for (;;) {
                unsigned char ch = (unsigned char)p->src[p->cursor++];
                /* the common case first: a printable character that is
                 * neither a quote nor a backslash, not escaped */
                if (ch > '\'' && ch < 127 && ch != '\\' && !esc) {
                    if (!simple)
                        sb_add(s, &str, (const char *)&ch, 1);
                    continue;
                }
                if (ch == '\n')
                    parser_error(p, "missing terminating \"'\"");
                if (esc) {
                    if (ch != '\\') {
                        /* show the whole UTF-8 sequence of the char */
                        size_t n = 1;
                        while (p->cursor - 1 + n < p->len &&
                               ((unsigned char)p->src[p->cursor - 1 + n] &
                                0xC0) == 0x80 && ch >= 0x80)
                            n++;
                        parser_error(p, "unknown escape \\%.*s", (int)n,
                                     p->src + p->cursor - 1);
                    }
                    esc = false;
                } else if (ch == '\\') {
                    if (simple) {
                        sb_add(s, &str, p->src + start,
                               p->cursor - 1 - start);
                        simple = false;
                    }
                    esc = true;
                    continue;
                } else if (ch == '\'') {
                    if (simple)
                        p->val = qv_intern(s, p->src + start,
                                           p->cursor - 1 - start);
                    else
                        p->val = qv_intern(s, str.p ? str.p : "", str.len);
                    return;
                }
                if (ch < 32 || ch >= 127)
                    parser_error(p, "funny character in string");
                if (!simple)
                    sb_add(s, &str, (const char *)&ch, 1);
            }
        } else if (p->len - p->pos >= 4 &&
                   !memcmp(p->src + p->pos, "true", 4)) {
            p->val = &s->qv_true;
            p->cursor += 3;
            return;
        } else if (p->len - p->pos >= 5 &&
                   !memcmp(p->src + p->pos, "false", 5)) {
            p->val = &s->qv_false;
            p->cursor += 4;
            return;
        } else if (c == '\n') {
            if (p->cursor == p->len) {
                p->tok = 0;
                return;
            }
            p->line++;
            p->line_pos = p->cursor;
        } else if (!is_space((unsigned char)c)) {
            size_t e = p->pos;
            while (e < p->len && !is_structural(p->src[e]) &&
                   !is_space((unsigned char)p->src[e]) && p->src[e] != '\'')
                e++;
            if (e - p->pos > INT_MAX)
                e = p->pos + INT_MAX;
            parser_error(p, "stray '%.*s'", (int)(e - p->pos),
                         p->src + p->pos);
        }
    }
}

/* ---- values ---- */

static qv *get_expr(parser *p);

static void depth_enter(parser *p)
{
    if (++p->depth > p->s->max_depth)
        parser_error(p, "nesting too deep");
}

/* Entries being collected live on a stack shared by all nesting levels;
 * a finished object or list is copied out at its exact size. */
static void stack_push(parser *p, const char *key, qv *val)
{
    qs *s = p->s;
    if (p->sp == UINT32_MAX)
        qs_oom(s); /* more entries than a qv can count */
    if (p->sp == s->stack_cap) {
        size_t ncap = s->stack_cap ? s->stack_cap * 2 : 256;
        qv_pair *ns = qs_alloc(s, ncap * sizeof(*ns));
        if (p->sp)
            memcpy(ns, s->stack, p->sp * sizeof(*ns));
        s->stack = ns;
        s->stack_cap = ncap;
    }
    p->stack = s->stack;
    p->stack[p->sp].key = key;
    p->stack[p->sp].val = val;
    p->sp++;
}

static qv *finish_obj(parser *p, size_t base)
{
    p->stack = p->s->stack;
    qv *obj = qs_valloc(p->s, sizeof(*obj));
    obj->kind = QV_OBJ;
    obj->n = p->sp - base;
    if (obj->n) {
        obj->obj = qs_valloc(p->s, obj->n * sizeof(qv_pair));
        memcpy(obj->obj, p->stack + base, obj->n * sizeof(qv_pair));
    }
    p->sp = base;
    return obj;
}

static qv *finish_list(parser *p, size_t base)
{
    p->stack = p->s->stack;
    qv *list = qs_valloc(p->s, sizeof(*list));
    list->kind = QV_LIST;
    list->n = p->sp - base;
    if (list->n) {
        list->list = qs_valloc(p->s, list->n * sizeof(qv *));
        for (size_t i = 0; i < list->n; i++)
            list->list[i] = p->stack[base + i].val;
    }
    p->sp = base;
    return list;
}

static qv *get_members(parser *p)
{
    qs *s = p->s;
    size_t base = p->sp;
    hmap keys = {.tmp = true}; /* duplicate check of big objects only */
    if (p->tok == '}') {
        parser_accept(p, true);
        return finish_obj(p, base);
    }
    if (p->tok != '\'')
        parser_error(p, "expected string or '}'");
    for (;;) {
        const char *key = p->val->s;
        parser_accept(p, true);
        if (p->tok != ':')
            parser_error(p, "expected ':'");
        parser_accept(p, true);
        size_t n = p->sp - base;
        bool dup;
        if (n < 16) {
            dup = false;
            p->stack = s->stack;
            for (size_t i = base; i < p->sp; i++)
                if (p->stack[i].key == key) /* interned */
                    dup = true;
            if (n == 15)
                for (size_t i = base; i < p->sp; i++)
                    hmap_put(s, &keys, s->stack[i].key, p);
        } else {
            dup = hmap_get(&keys, key) != NULL;
        }
        if (dup)
            parser_error(p, "duplicate key '%s'", key);
        if (n >= 15)
            hmap_put(s, &keys, key, p);
        qv *val = get_expr(p);
        stack_push(p, key, val);
        if (p->tok == '}') {
            parser_accept(p, true);
            return finish_obj(p, base);
        }
        if (p->tok != ',')
            parser_error(p, "expected ',' or '}'");
        parser_accept(p, true);
        if (p->tok != '\'')
            parser_error(p, "expected string");
    }
}

static qv *get_values(parser *p)
{
    size_t base = p->sp;
    if (p->tok == ']') {
        parser_accept(p, true);
        return finish_list(p, base);
    }
    if (!p->tok || !strchr("{['tf", p->tok))
        parser_error(p, "expected '{', '[', ']', string, or boolean");
    for (;;) {
        qv *v = get_expr(p);
        stack_push(p, NULL, v);
        if (p->tok == ']') {
            parser_accept(p, true);
            return finish_list(p, base);
        }
        if (p->tok != ',')
            parser_error(p, "expected ',' or ']'");
        parser_accept(p, true);
    }
}

static qv *get_expr(parser *p)
{
    qv *e;
    if (p->tok == '{') {
        depth_enter(p);
        parser_accept(p, true);
        e = get_members(p);
        p->depth--;
    } else if (p->tok == '[') {
        depth_enter(p);
        parser_accept(p, true);
        e = get_values(p);
        p->depth--;
    } else if (p->tok && strchr("'tf", p->tok) && p->val) {
        e = p->val;
        parser_accept(p, true);
    } else {
        parser_error(p, "expected '{', '[', string, or boolean");
    }
    return e;
}

/* ---- files ---- */

/*
 * A regular file's text is read into a mapping, not the heap. In the
 * heap, each text was freed between the arena chunks made while it was
 * parsed, and most of those holes stayed resident but unused: QEMU's
 * schema (742 KB of text) peaked 0.24 MB higher. Includes nest, so the
 * texts being parsed form a chain: each include depth has one mapping,
 * reused (or replaced by a bigger one) by the next file at that depth,
 * until the file that included them is parsed: QEMU's 46 files take nine
 * mmap() calls. All are unmapped when the parse ends or unwinds. A
 * mapping starts with its length (MAP_HDR bytes, keeping the text
 * aligned); s->srcmaps[depth] holds it.
 */
#define MAP_HDR 16
/* A new mapping is filled at once: one call makes its pages, not a page
 * fault each. */
#ifdef MAP_POPULATE
#define MAP_POPULATE_IF_ANY MAP_POPULATE
#else
#define MAP_POPULATE_IF_ANY 0
#endif

static size_t map_len(const char *m)
{
    size_t n;
    memcpy(&n, m, sizeof n);
    return n;
}

/* Room for CAP bytes of text at include depth DEPTH. */
static char *map_text(qs *s, unsigned depth, size_t cap)
{
    if (cap > SIZE_MAX - MAP_HDR)
        qs_oom(s);
    while (s->srcmaps.n <= depth)
        vec_push(s, &s->srcmaps, NULL);
    char **slot = (char **)&s->srcmaps.v[depth];
    size_t n = cap + MAP_HDR;
    if (*slot && map_len(*slot) >= n)
        return *slot + MAP_HDR;
    if (*slot)
        munmap(*slot, map_len(*slot));
    *slot = NULL;
    char *m = mmap(NULL, n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE_IF_ANY, -1, 0);
    if (m == MAP_FAILED)
        qs_oom(s);
    memcpy(m, &n, sizeof n);
    *slot = m;
    return m + MAP_HDR;
}

/* Unmaps the mappings deeper than DEPTH: once a file is parsed, those of
 * its includes are not needed by its siblings. */
static void unmap_below(qs *s, size_t depth)
{
    while (s->srcmaps.n > depth) {
        char *m = s->srcmaps.v[--s->srcmaps.n];
        if (m)
            munmap(m, map_len(m));
    }
}

void qs_unmap_texts(qs *s)
{
    unmap_below(s, 0);
}

/*
 * Reads a whole file into a buffer with two spare bytes: the mapping of
 * include depth DEPTH for a regular file (unless it grows while read),
 * else a qk_malloc'd buffer registered in s->srcbufs[*slot] so that an
 * unwind frees it; the caller frees that (src_release) once the file is
 * parsed. Returns 0 or an errno.
 */
static int read_file(qs *s, const char *path, unsigned depth,
                     const char **data, size_t *len, size_t *slot)
{
    vec_push(s, &s->srcbufs, NULL);
    *slot = s->srcbufs.n - 1;
    void **reg = &s->srcbufs.v[*slot];
    if (s->reader) {
        char *d = NULL;
        size_t n = 0;
        int r = s->reader(s->reader_opaque, path, &d, &n);
        if (r < 0)
            return -r;
        *reg = d;
        char *c = qk_realloc(d, n + 2);
        if (!c)
            qs_oom(s);
        *reg = c;
        *data = c;
        *len = n;
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    s->pending_fd = fd; /* closed by the entry point on unwind */
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) < 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    size_t cap = !e && S_ISREG(st.st_mode) ? (size_t)st.st_size + 3 : 65536;
    size_t n = 0;
    char *buf = NULL;
    bool mapped = !e && S_ISREG(st.st_mode);
    if (mapped) {
        buf = map_text(s, depth, cap);
    } else if (!e) {
        buf = qk_malloc(cap);
        if (!buf)
            qs_oom(s);
        *reg = buf;
    }
    while (!e) {
        if (cap - n < 3) {
            size_t ncap = cap * 2;
            char *nb = NULL;
            if (ncap > cap && mapped) {
                /* the file grew: carry on in the heap */
                nb = qk_malloc(ncap);
                if (nb)
                    memcpy(nb, buf, n);
            } else if (ncap > cap) {
                nb = qk_realloc(buf, ncap);
            }
            if (!nb)
                qs_oom(s);
            *reg = buf = nb;
            cap = ncap;
            mapped = false;
        }
        ssize_t r = read(fd, buf + n, cap - n - 2);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    s->pending_fd = -1;
    if (e)
        return e;
    *data = buf;
    *len = n;
    return 0;
}

static void src_release(qs *s, size_t slot)
{
    qk_free(s->srcbufs.v[slot]);
    s->srcbufs.v[slot] = NULL;
}

static void parse_file(qs *s, const char *fname, const char *data,
                       size_t len, srcinfo *incl_info, unsigned incl_depth);

static void do_include(qs *s, parser *p, const char *include, srcinfo *info,
                       const char *incl_fname, unsigned incl_depth)
{
    const char *abs = qs_path_abs(s, incl_fname);
    for (srcinfo *inf = info; inf; inf = inf->parent)
        if (!strcmp(abs, qs_path_abs(s, inf->fname)))
            qs_error(s, info, 0, "inclusion loop for %s", include);
    if (hmap_get(&s->included, abs))
        return;
    if (incl_depth + 1 > s->max_include_depth)
        qs_error(s, info, 0, "includes nested too deeply");
    const char *data;
    size_t len;
    hmap_put(s, &s->included, qs_strdup(s, abs), (void *)1);
    size_t slot;
    int e = read_file(s, incl_fname, incl_depth + 1, &data, &len, &slot);
    if (e)
        qs_error(s, info, 0, "can't read include file '%s': %s", incl_fname,
                 strerror(e));
    (void)p;
    parse_file(s, incl_fname, data, len, info, incl_depth + 1);
    src_release(s, slot);
    unmap_below(s, incl_depth + 2);
}

static void set_list_str(qs *s, srcinfo *info, const char *name, qv *v,
                         hmap *set)
{
    bool ok = v->kind == QV_LIST;
    for (size_t i = 0; ok && i < v->n; i++)
        if (v->list[i]->kind != QV_STR)
            ok = false;
    if (!ok)
        qs_error(s, info, 0, "pragma %s must be a list of strings", name);
    *set = (hmap){0};
    for (size_t i = 0; i < v->n; i++)
        hmap_put(s, set, v->list[i]->s, (void *)v->list[i]->s);
}

static void do_pragma(qs *s, const char *name, qv *value, srcinfo *info)
{
    pragma_state *pr = &s->pragma;
    if (!strcmp(name, "doc-required")) {
        if (value->kind != QV_BOOL)
            qs_error(s, info, 0, "pragma 'doc-required' must be boolean");
        pr->doc_required = value->b;
    } else if (!strcmp(name, "command-name-exceptions")) {
        set_list_str(s, info, name, value, &pr->command_name_exceptions);
    } else if (!strcmp(name, "command-returns-exceptions")) {
        set_list_str(s, info, name, value, &pr->command_returns_exceptions);
    } else if (!strcmp(name, "documentation-exceptions")) {
        set_list_str(s, info, name, value, &pr->documentation_exceptions);
    } else if (!strcmp(name, "member-name-exceptions")) {
        set_list_str(s, info, name, value, &pr->member_name_exceptions);
    } else {
        qs_error(s, info, 0, "unknown pragma '%s'", name);
    }
}

static void reject_expr_doc(qs *s, qapi_doc *doc)
{
    if (doc && doc->symbol)
        qs_error(s, doc_info(s, doc), 0,
                 "documentation for '%s' is not followed by the definition",
                 doc->symbol);
}

static void add_expr(qs *s, qv *e, srcinfo *info, qapi_doc *doc)
{
    qexpr *x = qs_valloc(s, sizeof(*x));
    x->expr = e;
    x->info = info;
    x->doc = doc;
    x->mark = qs_vals_mark(s);
    vec_hpush(s, &s->exprs, x);
}

static void parse_file(qs *s, const char *fname, const char *data,
                       size_t len, srcinfo *incl_info, unsigned incl_depth)
{
    parser pp = {0};
    parser *p = &pp;
    p->s = s;
    p->fname = fname;
    /* data has room for two more bytes */
    char *src = (char *)data;
    if (len == 0 || src[len - 1] != '\n')
        src[len++] = '\n';
    src[len] = 0;
    p->src = src;
    p->len = len;
    p->info = new_info(s, fname, incl_info);
    p->line = 1;
    hmap_put(s, &s->included, qs_strdup(s, qs_path_abs(s, fname)), (void *)1);

    parser_accept(p, true);
    qapi_doc *cur_doc = NULL;
    while (p->tok) {
        if (p->tok == '#') {
            reject_expr_doc(s, cur_doc);
            cur_doc = doc_parse(p);
            vec_hpush(s, &s->docs, cur_doc);
            continue;
        }
        srcinfo *info = parser_info(p); /* not for doc lines: doc_info() */
        qv *e = get_expr(p);
        if (e->kind != QV_OBJ)
            qs_error(s, info, 0, "top-level expression must be an object");
        if (qv_has(e, "include")) {
            reject_expr_doc(s, cur_doc);
            if (e->n != 1)
                qs_error(s, info, 0, "invalid 'include' directive");
            qv *inc = qv_get(e, "include");
            if (inc->kind != QV_STR)
                qs_error(s, info, 0, "value of 'include' must be a string");
            const char *incl_fname =
                qs_path_join(s, qs_path_dirname(s, fname), inc->s);
            add_expr(s, qv_new_obj1(s, "include", qv_new_str(s, incl_fname)),
                     info, NULL);
            do_include(s, p, inc->s, info, incl_fname, incl_depth);
        } else if (qv_has(e, "pragma")) {
            reject_expr_doc(s, cur_doc);
            if (e->n != 1)
                qs_error(s, info, 0, "invalid 'pragma' directive");
            qv *pr = qv_get(e, "pragma");
            if (pr->kind != QV_OBJ)
                qs_error(s, info, 0, "value of 'pragma' must be an object");
            for (size_t i = 0; i < pr->n; i++)
                do_pragma(s, pr->obj[i].key, pr->obj[i].val, info);
        } else {
            if (cur_doc && !cur_doc->symbol)
                qs_error(s, doc_info(s, cur_doc), 0,
                         "definition documentation required");
            add_expr(s, e, info, cur_doc);
        }
        cur_doc = NULL;
    }
    reject_expr_doc(s, cur_doc);
}

void qs_parse_root(qs *s, const char *fname, const char *data, size_t len)
{
    s->root_fname = fname;
    size_t slot;
    if (!data) {
        int e = read_file(s, fname, 0, &data, &len, &slot);
        if (e)
            qs_error_plain(s, qs_printf(s, "can't read schema file '%s': %s",
                                        fname, strerror(e)));
    } else {
        vec_push(s, &s->srcbufs, NULL);
        slot = s->srcbufs.n - 1;
        char *c = len + 2 > len ? qk_malloc(len + 2) : NULL;
        if (!c)
            qs_oom(s);
        s->srcbufs.v[slot] = c;
        memcpy(c, data, len);
        data = c;
    }
    parse_file(s, fname, data, len, NULL, 0);
    src_release(s, slot);
    qs_unmap_texts(s);
}
