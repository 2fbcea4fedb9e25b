/* SPDX-License-Identifier: MIT */
/*
 * Doc comments (qapi-code-gen.rst "Documentation comments"; checklist
 * 1.12): a block opens with a line "##" and closes with one. A definition
 * block starts "@NAME:" and holds the body, member and feature
 * descriptions and tagged sections (Returns, Errors, Since, TODO); anything
 * else is free-form. The parser here splits a block into sections and
 * makes the syntax checks QEMU makes; the semantic checks (documented
 * members exist, every member and feature is documented) run after the
 * model is built.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc-int.h"
#include "schema/schema-int.h"

static const char *kind_name(enum doc_kind k)
{
    static const char *const names[] = {
        "Plain", "Member", "Feature", "Returns", "Errors", "Since", "Todo",
    };
    return names[k];
}

/*
 * A section while its block is parsed (in scratch). Its text is known only
 * when the next section opens; then the kept section, header and text in
 * one allocation, is made (FINAL), and the block's lists are made of those
 * when it ends.
 */
typedef struct psec {
    doc_section *final;  /* once closed */
    const char *name;
    bool has_text;       /* once closed */
    int line;
    uint8_t kind;
} psec;

typedef struct docp {
    parser *p;
    qapi_doc *doc;
    /* The current line ends in the source buffer itself: the byte after
     * its text is made a NUL, and put back (SAVED) before the next token
     * is read. */
    char *nul_at;
    char saved;
    sbuf *acc;           /* text of the open (last) section (s->doc_acc) */
    /* Without text, only whether the open section has any (the checks
     * need no more), and only the descriptions are kept. */
    bool keep;
    bool has_text;
    /* literal-block state for the line checks */
    bool literal;
    int literal_indent; /* -1: not known yet */
    /* the block's sections (psec*), in scratch */
    vec all_sections;    /* every section, in order; the last one is open */
    vec args, features, sections;
    psec *body, *returns, *errors, *since;
    hmap args_idx, features_idx;
} docp;

/* A location in the block's file, made when a message needs it. A block
 * never shares its line with a definition, so there is no context line. */
static srcinfo *sec_info(qs *s, const qapi_doc *doc, int line)
{
    srcinfo *i = qs_alloc(s, sizeof(*i));
    *i = *doc->file;
    i->line = line;
    i->defn_meta = 0;
    i->defn_name = NULL;
    return i;
}

srcinfo *doc_info(qs *s, const qapi_doc *doc)
{
    return sec_info(s, doc, doc->line);
}

/* A kept section with room for LEN bytes of text (none when TEXT is
 * false). */
static doc_section *new_section(qs *s, int line, enum doc_kind kind,
                                const char *name, size_t len, bool text)
{
    doc_section *sec =
        qs_alloc(s, offsetof(doc_section, text) + (text ? len + 1 : 0));
    sec->line = line;
    sec->kind = (uint8_t)kind;
    sec->name = name;
    return sec;
}

static psec *new_psec(qs *s, int line, enum doc_kind kind, const char *name)
{
    psec *sec = qs_talloc(s, sizeof(*sec));
    sec->line = line;
    sec->kind = (uint8_t)kind;
    sec->name = name;
    return sec;
}

/* The text buffer lives on the heap, reused from block to block and freed
 * after the parse (doc_parse_done): in the arena, its outgrown copies
 * would stay behind. */
static void buf_add(qs *s, sbuf *b, const char *p, size_t n)
{
    if (b->cap - b->len <= n) {
        if (n > SIZE_MAX / 4 - b->len)
            qs_oom(s);
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n)
            cap *= 2;
        char *np = qk_realloc(b->p, cap);
        if (!np)
            qs_oom(s);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void doc_parse_done(qs *s)
{
    qk_free(s->doc_acc.p);
    s->doc_acc = (sbuf){0};
}

static void append_line(docp *d, const char *line)
{
    qs *s = d->p->s;
    if (!d->keep) {
        /* lines have no trailing blanks: "" is all the stripping drops */
        d->has_text |= line[0] != 0;
        return;
    }
    buf_add(s, d->acc, line, strlen(line));
    buf_add(s, d->acc, "\n", 1);
}

/* Closes the open section: the kept one is made with its text, stripped
 * of newlines at both ends. */
static void close_section(docp *d)
{
    if (!d->all_sections.n)
        return;
    qs *s = d->p->s;
    psec *sec = d->all_sections.v[d->all_sections.n - 1];
    if (!d->keep) {
        sec->has_text = d->has_text;
        d->has_text = false;
        if (sec->kind == DK_MEMBER || sec->kind == DK_FEATURE)
            sec->final = new_section(s, sec->line, sec->kind, sec->name, 0,
                                     false);
        return;
    }
    const char *t = d->acc->p ? d->acc->p : "";
    size_t len = d->acc->len, a = 0;
    while (a < len && t[a] == '\n')
        a++;
    while (len > a && t[len - 1] == '\n')
        len--;
    sec->final = new_section(s, sec->line, sec->kind, sec->name, len - a,
                             true);
    memcpy(sec->final->text, t + a, len - a);
    sec->has_text = len > a;
    d->acc->len = 0;
    if (d->acc->p)
        d->acc->p[0] = 0;
}

static void push_section(docp *d, psec *sec)
{
    close_section(d);
    vec_tpush(d->p->s, &d->all_sections, sec);
}

static size_t indent_of(const char *line)
{
    size_t i = 0;
    while (line[i] == ' ' || line[i] == '\t')
        i++;
    return i;
}

static size_t utf8_len(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80)
            c++;
    return c;
}

static bool is_url_line(const char *t)
{
    t += indent_of(t);
    if (strncmp(t, "http://", 7) && strncmp(t, "https://", 8) &&
        strncmp(t, "ftp://", 6))
        return false;
    return !strchr(t, ' ');
}

/* The first '.', '!' or '?' in [T, E), or NULL. Not strpbrk(): that
 * would make another 50 KB of libc's code resident in a checker process,
 * for no gain in speed. */
static const char *next_stop(const char *t, const char *e)
{
    const char *q = memchr(t, '.', (size_t)(e - t));
    const char *x = memchr(t, '!', (size_t)((q ? q : e) - t));
    if (x)
        q = x;
    x = memchr(t, '?', (size_t)((q ? q : e) - t));
    return x ? x : q;
}

/* Style checks on one line of text, N bytes (outside literal blocks). */
static void check_line(docp *d, const char *text, size_t n)
{
    parser *p = d->p;
    size_t ind = indent_of(text);
    bool blank = text[ind] == 0;
    if (d->literal && !blank) {
        /* a literal block ends at the first non-blank line indented less
         * than its own first non-blank line */
        if (d->literal_indent < 0)
            d->literal_indent = (int)ind;
        else if ((int)ind < d->literal_indent)
            d->literal = false;
    }
    if (!d->literal) {
        if (p->vallen > 70 && utf8_len(p->valstr, p->vallen) > 70 &&
            !is_url_line(text))
            parser_error(p, "documentation line longer than 70 characters");
        for (size_t i = ind; i + 2 < n; i++) {
            const char *q = next_stop(text + i, text + n);
            if (!q)
                break;
            i = (size_t)(q - text);
            if (i + 2 >= n || text[i + 1] != ' ')
                continue;
            char nx = text[i + 2];
            if (!((nx >= 'A' && nx <= 'Z') || (nx >= '0' && nx <= '9') ||
                  nx == '('))
                continue;
            if (i >= 3 && !strncmp(text + i - 3, "e.g", 3))
                continue;
            size_t j = ind;
            while (j < i && text[j] >= '0' && text[j] <= '9')
                j++;
            if (j == i && i > ind)
                continue; /* "1. " list marker */
            /* column of the single space */
            size_t save = p->pos;
            p->pos = p->pos + 2 + i + 1;
            parser_error(p, "Use two spaces between sentences\n"
                            "If this not the end of a sentence, please "
                            "report a bug.");
            p->pos = save;
        }
        if ((n - ind == 2 && !memcmp(text + ind, "::", 2)) ||
            (n - ind == 16 && !memcmp(text + ind, ".. qmp-example::", 16))) {
            d->literal = true;
            d->literal_indent = -1;
        }
    }
}

/* rST-ish heading markup of old doc comments: "= Title", "== Sub" */
static bool is_heading(const char *line)
{
    size_t i = 0;
    while (line[i] == '=')
        i++;
    return i > 0 && line[i] == ' ';
}

/* Returns the line's text, "" for "#", NULL at the closing "##". */
static const char *get_doc_line(docp *d)
{
    parser *p = d->p;
    if (p->tok != '#')
        parser_error(p, "documentation comment must end with '##'");
    const char *v = p->valstr;
    size_t vl = p->vallen;
    if (vl >= 2 && v[1] == '#') {
        if (vl != 2)
            parser_error(p, "junk after '##' at end of documentation comment");
        return NULL;
    }
    if (vl == 1) {
        check_line(d, "", 0);
        return "";
    }
    if (v[1] != ' ')
        parser_error(p, "missing space after #");
    size_t n = vl - 2;
    while (n > 0 && (v[2 + n - 1] == ' ' || v[2 + n - 1] == '\t' ||
                     v[2 + n - 1] == '\r' || v[2 + n - 1] == '\f' ||
                     v[2 + n - 1] == '\v' ||
                     (v[2 + n - 1] >= 0x1c && v[2 + n - 1] <= 0x1f)))
        n--;
    /* the source buffer is the parse's own (parse_file writes to it) */
    char *text = (char *)v + 2;
    d->nul_at = text + n;
    d->saved = text[n];
    text[n] = 0;
    /* strlen(): a NUL in the line ends it for every later test too */
    check_line(d, text, strlen(text));
    return text;
}

/* Puts back the byte the current line's NUL replaced. */
static void end_line(docp *d)
{
    if (d->nul_at)
        *d->nul_at = d->saved;
    d->nul_at = NULL;
}

static const char *next_line(docp *d)
{
    end_line(d);
    parser_accept(d->p, false);
    return get_doc_line(d);
}

/* Matches "@NAME: *"; returns the name (in LINE, *len bytes, not
 * terminated) and sets *rest to the text after. Nothing is copied: most
 * matches are only tests. */
static const char *match_at_name_colon(const char *line, int *len,
                                       const char **rest)
{
    if (line[0] != '@')
        return NULL;
    const char *colon = strchr(line + 1, ':');
    if (!colon || colon - line - 1 > INT_MAX)
        return NULL;
    const char *r = colon + 1;
    while (*r == ' ')
        r++;
    *rest = r;
    *len = (int)(colon - line - 1);
    return line + 1;
}

static const char *get_doc_indented(docp *d)
{
    const char *line = next_line(d);
    while (line && !line[0]) {
        append_line(d, line);
        line = next_line(d);
    }
    if (!line)
        return NULL;
    size_t indent = indent_of(line);
    if (!indent)
        return line;
    append_line(d, line);
    bool prev_blank = false;
    for (;;) {
        line = next_line(d);
        if (!line)
            return NULL;
        const char *rest;
        int nlen;
        if (match_at_name_colon(line, &nlen, &rest))
            return line;
        size_t cur = indent_of(line);
        if (line[0] && cur < indent) {
            if (prev_blank)
                return line;
            parser_error(d->p,
                         "unexpected de-indent (expected at least %zu spaces)",
                         indent);
        }
        append_line(d, line);
        prev_blank = true;
    }
}

static const char *get_doc_paragraph(docp *d)
{
    for (;;) {
        const char *line = next_line(d);
        if (!line || !line[0])
            return line;
        append_line(d, line);
    }
}

static void ensure_untagged_section(docp *d, int line)
{
    qs *s = d->p->s;
    psec *last = d->all_sections.n
                     ? d->all_sections.v[d->all_sections.n - 1]
                     : NULL;
    if (last && last->kind == DK_PLAIN) {
        if (!d->keep)
            return;
        if (!d->acc->len)
            last->line = line;
        buf_add(s, d->acc, "\n", 1);
        return;
    }
    psec *sec = new_psec(s, line, DK_PLAIN, NULL);
    vec_tpush(s, &d->sections, sec);
    push_section(d, sec);
}

static void new_tagged_section(docp *d, int line, enum doc_kind kind)
{
    qs *s = d->p->s;
    psec *sec = new_psec(s, line, kind, NULL);
    psec **slot = kind == DK_RETURNS  ? &d->returns
                  : kind == DK_ERRORS ? &d->errors
                  : kind == DK_SINCE  ? &d->since
                                      : NULL;
    if (slot) {
        if (*slot)
            qs_error(s, sec_info(s, d->doc, line), 0,
                     "duplicated '%s' section", kind_name(kind));
        *slot = sec;
    }
    vec_tpush(s, &d->sections, sec);
    push_section(d, sec);
}

static doc_section *find_desc(vec *v, hmap *idx, const char *name)
{
    if (idx && idx->cap)
        return hmap_get(idx, name);
    for (size_t i = 0; i < v->n; i++) {
        doc_section *sec = v->v[i];
        if (sec->name[0] == name[0] && !strcmp(sec->name, name))
            return sec;
    }
    return NULL;
}

/* IDX may be NULL while V is short. */
static void add_desc(qs *s, vec *v, hmap *idx, doc_section *sec)
{
    vec_push(s, v, sec);
    if (v->n == 16) {
        for (size_t i = 0; i < v->n; i++) {
            doc_section *o = v->v[i];
            hmap_put(s, idx, o->name, o);
        }
    } else if (idx && idx->cap) {
        hmap_put(s, idx, sec->name, sec);
    }
}

static void new_description(docp *d, int line, const char *name, int len,
                            enum doc_kind kind, vec *desc, hmap *idx)
{
    qs *s = d->p->s;
    if (!len)
        qs_error(s, parser_info(d->p), 0, "invalid parameter name");
    /* interned: usually the same string as the member's name */
    name = qv_intern(s, name, (size_t)len)->s;
    bool dup = false;
    if (idx->cap) {
        dup = hmap_get(idx, name) != NULL;
    } else {
        for (size_t i = 0; i < desc->n && !dup; i++) {
            const char *o = ((psec *)desc->v[i])->name;
            dup = o[0] == name[0] && !strcmp(o, name);
        }
    }
    if (dup)
        qs_error(s, parser_info(d->p), 0, "'%s' parameter name duplicated",
                 name);
    psec *sec = new_psec(s, line, kind, name);
    push_section(d, sec);
    vec_tpush(s, desc, sec);
    if (desc->n == 16) {
        for (size_t i = 0; i < desc->n; i++)
            hmap_put(s, idx, ((psec *)desc->v[i])->name, desc->v[i]);
    } else if (idx->cap) {
        hmap_put(s, idx, name, sec);
    }
}

/* The kept sections of a list of psec, at exact size. */
static vec finals(qs *s, const vec *v)
{
    vec r = {0};
    vec_reserve(s, &r, v->n);
    for (size_t i = 0; i < v->n; i++)
        r.v[r.n++] = ((psec *)v->v[i])->final;
    return r;
}

/* The exact-size index a big block keeps for the model checks. */
static void index_descs(qs *s, hmap *idx, const vec *v)
{
    if (v->n < 16)
        return;
    hmap_reserve(s, idx, v->n);
    for (size_t i = 0; i < v->n; i++) {
        doc_section *sec = v->v[i];
        hmap_put(s, idx, sec->name, sec);
    }
}

/* Is LINE a tagged section heading? Sets *tag / *taglen and *rest. */
static bool match_tag(const char *line, const char **tag, size_t *taglen,
                      const char **rest)
{
    static const char *const tags[] = {
        "Returns", "Errors", "Since", "Notes", "Note", "Examples", "Example",
        "TODO",
    };
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        if (line[0] != tags[i][0])
            continue; /* most lines */
        size_t n = strlen(tags[i]);
        if (strncmp(line, tags[i], n) || line[n] != ':')
            continue;
        if (line[n + 1] == ':')
            return false;
        *tag = tags[i];
        *taglen = n;
        const char *r = line + n + 1;
        while (*r == ' ')
            r++;
        *rest = r;
        return true;
    }
    return false;
}

static void end_doc(qs *s, docp *d)
{
    for (size_t i = 0; i < d->all_sections.n; i++) {
        psec *sec = d->all_sections.v[i];
        if (sec->kind != DK_PLAIN && !sec->has_text)
            qs_error(s, sec_info(s, d->doc, sec->line), 0,
                     "text required after '%s:'", kind_name(sec->kind));
    }
}

qapi_doc *doc_parse(parser *p)
{
    qs *s = p->s;
    docp dd = {.p = p, .literal_indent = -1, .keep = !s->drop_doc_text};
    dd.args_idx.tmp = dd.features_idx.tmp = true;
    docp *d = &dd;
    /* buffers reused across blocks */
    d->acc = &s->doc_acc;
    d->acc->len = 0;
    if (p->vallen != 2)
        parser_error(p, "junk after '##' at start of documentation comment");
    /* without text, the text fields at the end are not even allocated */
    qapi_doc *doc = qs_alloc(s, d->keep ? sizeof(*doc)
                                        : offsetof(qapi_doc, body));
    d->doc = doc;
    doc->file = p->info;
    doc->line = p->line;
    d->body = new_psec(s, doc->line, DK_PLAIN, NULL);
    vec_tpush(s, &d->all_sections, d->body);

    const char *line = next_line(d);
    if (line && line[0] == '@') {
        size_t n = strlen(line);
        if (line[n - 1] != ':')
            parser_error(p, "line should end with ':'");
        const char *symbol = qv_intern(s, line + 1, n - 2)->s;
        if (!symbol[0])
            parser_error(p, "name required after '@'");
        doc->symbol = symbol;
        line = next_line(d);
        bool no_more_args = false;
        while (line) {
            while (line && !line[0])
                line = next_line(d);
            if (!line)
                break;
            const char *rest, *name, *tag;
            size_t taglen;
            int nlen;
            if (!strcmp(line, "Features:")) {
                if (d->features.n)
                    parser_error(p, "duplicated 'Features:' line");
                line = next_line(d);
                while (line && !line[0])
                    line = next_line(d);
                while (line &&
                       (name = match_at_name_colon(line, &nlen, &rest))) {
                    new_description(d, p->line, name, nlen, DK_FEATURE,
                                    &d->features, &d->features_idx);
                    if (rest[0])
                        append_line(d, rest);
                    line = get_doc_indented(d);
                }
                if (!d->features.n)
                    parser_error(p, "feature descriptions expected");
                no_more_args = true;
            } else if ((name = match_at_name_colon(line, &nlen, &rest))) {
                if (no_more_args)
                    parser_error(p,
                                 "description of '@%.*s:' follows a section",
                                 nlen, name);
                while (line &&
                       (name = match_at_name_colon(line, &nlen, &rest))) {
                    new_description(d, p->line, name, nlen, DK_MEMBER,
                                    &d->args, &d->args_idx);
                    if (rest[0])
                        append_line(d, rest);
                    line = get_doc_indented(d);
                }
                no_more_args = true;
            } else if (match_tag(line, &tag, &taglen, &rest)) {
                if (!strncmp(tag, "Note", 4))
                    parser_error(p,
                                 "The '%s' section is no longer supported. "
                                 "Please use rST's '.. note::' or "
                                 "'.. admonition:: notes' directives, or "
                                 "another suitable admonition instead.",
                                 tag);
                if (!strncmp(tag, "Example", 7))
                    parser_error(p,
                                 "The '%s' section is no longer supported. "
                                 "Please use the '.. qmp-example::' "
                                 "directive, or other suitable markup "
                                 "instead.",
                                 tag);
                enum doc_kind k = !strcmp(tag, "Returns")  ? DK_RETURNS
                                  : !strcmp(tag, "Errors") ? DK_ERRORS
                                  : !strcmp(tag, "Since")  ? DK_SINCE
                                                           : DK_TODO;
                new_tagged_section(d, p->line, k);
                if (rest[0])
                    append_line(d, rest);
                line = get_doc_indented(d);
                no_more_args = true;
            } else if (is_heading(line)) {
                parser_error(p, "unexpected '=' markup in definition "
                                "documentation");
            } else {
                ensure_untagged_section(d, p->line);
                append_line(d, line);
                line = get_doc_paragraph(d);
            }
        }
    } else {
        ensure_untagged_section(d, p->line);
        bool first = true;
        while (line) {
            const char *rest, *name;
            int nlen;
            if ((name = match_at_name_colon(line, &nlen, &rest)))
                parser_error(p,
                             "'@%.*s:' not allowed in free-form documentation",
                             nlen, name);
            if (is_heading(line) && !first)
                parser_error(p, "'=' heading must come first in a comment "
                                "block");
            append_line(d, line);
            line = next_line(d);
            first = false;
        }
    }
    close_section(d);
    end_line(d);
    parser_accept(p, true);
    end_doc(s, d);
    doc->args = finals(s, &d->args);
    doc->features = finals(s, &d->features);
    if (d->keep) {
        doc->body = d->body->final;
        doc->sections = finals(s, &d->sections);
    }
    doc->returns_line = d->returns ? d->returns->line : 0;
    doc->errors_line = d->errors ? d->errors->line : 0;
    if (doc->args.n >= 16 || doc->features.n >= 16) {
        doc->idx = qs_alloc(s, sizeof(*doc->idx));
        index_descs(s, &doc->idx->args, &doc->args);
        index_descs(s, &doc->idx->features, &doc->features);
    }
    qs_scratch_reset(s);
    return doc;
}

/* ---- semantic checks ---- */

void doc_check_expr(qs *s, qapi_doc *doc, const qv *expr)
{
    if (qv_has(expr, "command")) {
        if (doc->returns_line && !qv_has(expr, "returns"))
            qs_error(s, sec_info(s, doc, doc->returns_line), 0,
                     "'Returns' section, but command doesn't return "
                     "anything");
    } else {
        if (doc->returns_line)
            qs_error(s, sec_info(s, doc, doc->returns_line), 0,
                     "'Returns' section is only valid for commands");
        if (doc->errors_line)
            qs_error(s, sec_info(s, doc, doc->errors_line), 0,
                     "'Errors' section is only valid for commands");
    }
}

void doc_connect_member(qs *s, qapi_doc *doc, const char *role,
                        const char *name, srcinfo *info)
{
    doc_section *sec = find_desc(&doc->args,
                                 doc->idx ? &doc->idx->args : NULL, name);
    if (!sec) {
        if (!hmap_get(&s->pragma.documentation_exceptions,
                      doc->symbol))
            qs_error(s, info, 0, "%s '%s' lacks documentation", role, name);
        sec = new_section(s, doc->line, DK_MEMBER, name, 0,
                          !s->drop_doc_text);
        if (!doc->idx && doc->args.n + 1 >= 16)
            doc->idx = qs_alloc(s, sizeof(*doc->idx));
        add_desc(s, &doc->args, doc->idx ? &doc->idx->args : NULL, sec);
    }
    sec->connected = true;
}

void doc_connect_feature(qs *s, qapi_doc *doc, const char *name,
                         srcinfo *info)
{
    doc_section *sec = find_desc(
        &doc->features, doc->idx ? &doc->idx->features : NULL, name);
    if (!sec)
        qs_error(s, info, 0, "feature '%s' lacks documentation", name);
    sec->connected = true;
}

static void check_args_section(qs *s, qapi_doc *doc, vec *v,
                               const char *what)
{
    size_t nbogus = 0;
    doc_section *first = NULL;
    for (size_t i = 0; i < v->n; i++) {
        doc_section *sec = v->v[i];
        if (!sec->connected) {
            if (!first)
                first = sec;
            nbogus++;
        }
    }
    if (!nbogus)
        return;
    sbuf b = {0};
    sb_printf(s, &b, "documented %s%s '", what, nbogus > 1 ? "s" : "");
    bool sep = false;
    for (size_t i = 0; i < v->n; i++) {
        doc_section *sec = v->v[i];
        if (sec->connected)
            continue;
        if (sep)
            sb_adds(s, &b, "', '");
        sb_adds(s, &b, sec->name);
        sep = true;
    }
    sb_printf(s, &b, "' %s not exist", nbogus > 1 ? "do" : "does");
    qs_error_msg(s, sec_info(s, doc, first->line), 0, b.p);
}

void doc_check(qs *s, qapi_doc *doc)
{
    check_args_section(s, doc, &doc->args, "member");
    check_args_section(s, doc, &doc->features, "feature");
}
