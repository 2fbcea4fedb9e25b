/* SPDX-License-Identifier: MIT */
/* Scalar tokens to values (see scalar.c). */
#ifndef QK_SCALAR_INT_H
#define QK_SCALAR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "qmpkit/json.h"

/* A string token (quotes included) to a string value. QK_ERR_PARSE with
 * QEMU's message in msg, or QK_ERR_NOMEM. */
int qk_scalar_string(const char *text, size_t len, bool qmp, qk_json **out,
                     char *msg, size_t msgsize);
/* An integer or float token to a number value; only QK_ERR_NOMEM fails. */
int qk_scalar_number(const char *text, size_t len, bool is_float,
                     qk_json **out);
/* true, false or null; anything else is QK_ERR_PARSE "invalid keyword". */
int qk_scalar_keyword(const char *text, size_t len, qk_json **out, char *msg,
                      size_t msgsize);
/* strtod in the "C" locale, whatever the process's locale is. */
double qk_strtod_c(const char *s, char **end);

#endif
