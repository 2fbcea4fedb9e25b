/* SPDX-License-Identifier: MIT */
/* qmpkit/qmpkit.h: the umbrella header. */
#ifndef QMPKIT_QMPKIT_H
#define QMPKIT_QMPKIT_H

#include "common.h"
#include "json.h"
#include "error.h"
#include "session.h"
#include "server.h"
#include "client.h"

#endif
