#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds examples/hello (schema -> qapi-gen -> handlers -> server) against
# this build and talks QMP to it over stdin/stdout.
# Usage: example-hello.sh QAPI_GEN SRCDIR LIBQMPKIT_A [CFLAGS]
set -eu
gen=$1
src=$2
lib=$3
extra=${4:-}
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" -o "$tmp/generated" "$src/examples/hello/hello.json"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror -g $extra -I"$src/include" \
    -I"$tmp/generated" -o "$tmp/hello" "$src/examples/hello/hello.c" \
    "$tmp"/generated/*.c "$lib" -lpthread -lm
printf '%s\n' '{"execute": "qmp_capabilities"}' \
    '{"execute": "say-hello", "arguments": {"name": "world", "lang": "fr"}}' \
    '{"execute": "say-hello", "arguments": {"nom": "x"}}' \
    '{"execute": "say-hello", "arguments": {"name": "x", "lang": "de"}}' \
    '{"execute": "say-hello", "arguments": {"name": ""}}' \
    | "$tmp/hello" > "$tmp/out"
cat "$tmp/out"
fail=0
for want in \
    '"event": "GREETED", "data": {"name": "world"}}' \
    '{"return": {"message": "Bonjour, world", "count": 1, "lang": "fr"}}' \
    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'name' is missing\"}}" \
    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'lang' does not accept value 'de'\"}}" \
    '{"error": {"class": "GenericError", "desc": "nobody to greet"}}'; do
    if ! grep -qF "$want" "$tmp/out"; then
        echo "FAIL: missing $want"
        fail=1
    fi
done
[ $fail = 0 ] && echo "1 passed, 0 failed"
exit $fail
