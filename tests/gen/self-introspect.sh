#!/bin/sh
# SPDX-License-Identifier: MIT
# Introspection eats its own cooking: generates code for QEMU's main
# schema, builds the query-qmp-schema value (qapi-introspect.c) and reads
# it back through the generated SchemaInfoList visitor (from
# introspect.json); the counts of commands and events must match the
# schema's (those without an `if`, since no CONFIG_* macro is defined).
# Usage: self-introspect.sh QAPI_GEN INCLUDE_DIR LIBQMPKIT_A DRIVER.c [CFLAGS]
set -u
gen=$1
inc=$2
lib=$3
driver=$4
extra=${5:-}
cc=${CC:-cc}
schema=${QK_SHARED:-$(dirname "$0")/../../../shared}/reference/qemu/schema/qapi/qapi-schema.json
if [ ! -f "$schema" ]; then
    echo "SKIP: $schema not found"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" -o "$tmp" "$schema" || exit 1
# shellcheck disable=SC2046
set -- $("$gen" --dump "$schema" | awk '
    /^doc / { exit }
    /^[a-z]/ { if (k != "" && !c) u[k]++; k = ""; c = 0
               if ($1 == "command" || $1 == "event") k = $1; next }
    /^    if / { c = 1 }
    END { if (k != "" && !c) u[k]++; print u["command"] + 0, u["event"] + 0 }')
echo "schema: $1 unconditional commands, $2 unconditional events"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror -g $extra -I"$inc" -I"$tmp" \
    -o "$tmp/self" "$driver" "$tmp/qapi-introspect.c" \
    "$tmp/qapi-types-introspect.c" "$tmp/qapi-visit-introspect.c" \
    "$lib" -lpthread -lm || exit 1
"$tmp/self" "$1" "$2"
