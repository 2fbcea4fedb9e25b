/* SPDX-License-Identifier: MIT */
#include "qmpkit/common.h"

const char *qk_strerror(int err)
{
    switch (err) {
    case QK_OK: return "success";
    case QK_ERR_NOMEM: return "out of memory";
    case QK_ERR_INVAL: return "invalid argument";
    case QK_ERR_RANGE: return "number out of range";
    case QK_ERR_PARSE: return "invalid input";
    case QK_ERR_LIMIT: return "limit exceeded";
    case QK_ERR_NOSPC: return "buffer too small";
    case QK_ERR_NOENT: return "not found";
    case QK_ERR_IO: return "input/output error";
    case QK_ERR_STATE: return "invalid in this state";
    default: return "unknown error";
    }
}
