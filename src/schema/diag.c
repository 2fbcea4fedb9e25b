/* SPDX-License-Identifier: MIT */
/*
 * Source locations and diagnostics, formatted exactly as QEMU's generator
 * formats them: the include chain ("In file included from F:L:"), the
 * context line ("F: In META 'NAME':") once a definition's name is known,
 * then "F:L[:C]: message". The first error ends the run: the text goes to
 * the diagnostic callback and control unwinds to the entry point.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "schema/schema-int.h"

const char *const qs_defn_metas[7] = {
    NULL, "enum", "struct", "union", "alternate", "command", "event",
};

char *qs_info_str(qs *s, const srcinfo *info)
{
    sbuf b = {0};
    sbuf chain = {0};
    for (const srcinfo *p = info->parent; p; p = p->parent) {
        /* outermost first: prepend */
        sbuf line = {0};
        sb_printf(s, &line, "In file included from %s:%d:\n", p->fname,
                  p->line);
        if (chain.len)
            sb_add(s, &line, chain.p, chain.len);
        chain = line;
    }
    if (chain.len)
        sb_add(s, &b, chain.p, chain.len);
    if (info->defn_name)
        sb_printf(s, &b, "%s: In %s '%s':\n", info->fname,
                  qs_defn_metas[info->defn_meta],
                  info->defn_name);
    sb_printf(s, &b, "%s:%d", info->fname, info->line);
    return b.p;
}

__attribute__((noreturn)) static void emit(qs *s, const char *text)
{
    s->last_error = (char *)text;
    if (s->diag)
        s->diag(s->diag_opaque, text);
    longjmp(s->jb, QK_ERR_PARSE);
}

void qs_error_msg(qs *s, srcinfo *info, int col, const char *msg)
{
    sbuf b = {0};
    sb_adds(s, &b, qs_info_str(s, info));
    if (col > 0)
        sb_printf(s, &b, ":%d", col);
    sb_adds(s, &b, ": ");
    sb_adds(s, &b, msg);
    sb_adds(s, &b, "\n");
    emit(s, b.p);
}

void qs_error(qs *s, srcinfo *info, int col, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        qs_oom(s);
    char *m = qs_alloc(s, (size_t)n + 1);
    vsnprintf(m, (size_t)n + 1, fmt, ap);
    va_end(ap);
    qs_error_msg(s, info, col, m);
}

void qs_error_plain(qs *s, const char *msg)
{
    emit(s, qs_printf(s, "%s\n", msg));
}
