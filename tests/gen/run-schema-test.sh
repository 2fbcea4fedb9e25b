#!/bin/sh
# SPDX-License-Identifier: MIT
# Generates code for QEMU's positive test schema (qapi-schema-test.json),
# compiles it with the test driver test-qapi-schema-test.c (same warnings
# as the library; the sanitizers of the build, if any) and runs it, once
# with no TEST_IF_* macros and once with all of them.
# Usage: run-schema-test.sh QAPI_GEN INCLUDE_DIR LIBQMPKIT_A DRIVER.c [CFLAGS]
# Exit 77 (skip) when ../shared is absent.
set -u
gen=$1
inc=$2
lib=$3
driver=$4
extra=${5:-}
cc=${CC:-cc}
schema=${QK_SHARED:-$(dirname "$0")/../../../shared}/conformance/qapi-schema/qapi-schema-test.json
if [ ! -f "$schema" ]; then
    echo "SKIP: $schema not found"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" -o "$tmp/out" "$schema" || exit 1
srcs=$(find "$tmp/out" -name '*.c')
defs=$(grep -rho 'defined([A-Za-z0-9_]*)' "$tmp/out" | sort -u |
       sed 's/defined(\(.*\))/-D\1/' | tr '\n' ' ')
fail=0
for cfg in none all; do
    D=
    [ $cfg = all ] && D=$defs
    # shellcheck disable=SC2086
    if ! $cc -std=c11 -Wall -Wextra -Werror -g $extra $D -I"$inc" \
            -I"$tmp/out" -o "$tmp/test-$cfg" "$driver" $srcs "$lib" \
            -lpthread -lm; then
        echo "FAIL: build ($cfg)"
        fail=1
        continue
    fi
    echo "== macros: $cfg"
    "$tmp/test-$cfg" || fail=1
done
exit $fail
