#!/bin/sh
# SPDX-License-Identifier: MIT
# Introspection eats its own cooking: generates code for QEMU's main
# schema, builds the query-qmp-schema value (qapi-introspect.c) and reads
# it back through the generated SchemaInfoList visitor (from
# introspect.json); the counts of commands and events must match the
# schema's: those without an `if` when no CONFIG_* macro is defined, all of
# them when every macro is (QEMU's schema has no 'not' conditions).
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
    /^[a-z]/ { if (k != "") { n[k]++; if (!c) u[k]++ }
               k = ""; c = 0
               if ($1 == "command" || $1 == "event") k = $1; next }
    /^    if / { c = 1 }
    END { if (k != "") { n[k]++; if (!c) u[k]++ }
          print u["command"] + 0, u["event"] + 0, n["command"] + 0, n["event"] + 0 }')
echo "schema: $1 unconditional commands, $2 unconditional events; $3 and $4 in all"
defs=$(grep -ho 'defined([A-Za-z0-9_]*)' "$tmp"/*.c "$tmp"/*.h | sort -u |
       sed 's/defined(\(.*\))/-D\1/' | tr '\n' ' ')
fail=0
for cfg in none all; do
    D=
    [ $cfg = all ] && D=$defs
    # shellcheck disable=SC2086
    $cc -std=c11 -Wall -Wextra -Werror -g $extra $D -I"$inc" -I"$tmp" \
        -o "$tmp/self" "$driver" "$tmp/qapi-introspect.c" \
        "$tmp/qapi-types-introspect.c" "$tmp/qapi-visit-introspect.c" \
        "$lib" -lpthread -lm || exit 1
    if [ $cfg = none ]; then
        "$tmp/self" "$1" "$2" || fail=1
    else
        "$tmp/self" "$3" "$4" || fail=1
    fi
done
exit $fail
