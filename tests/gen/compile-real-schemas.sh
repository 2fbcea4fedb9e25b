#!/bin/sh
# SPDX-License-Identifier: MIT
# Generates code for QEMU's three real schemas (main, qga with -p qga-,
# storage-daemon) and compiles every generated .c with gcc and clang,
# -std=c11 -Wall -Wextra -Werror, once with no CONFIG_*/TARGET_* macros and
# once with every macro the conditions mention defined; the headers are
# also compiled as C++ (g++). Each schema's files are compiled as one
# translation unit per configuration (they share no static names).
# Usage: compile-real-schemas.sh QAPI_GEN INCLUDE_DIR
# Exit 77 (skip) when ../shared is absent.
set -u
gen=$1
inc=$2
ref=${QK_SHARED:-$(dirname "$0")/../../../shared}/reference/qemu/schema
if [ ! -f "$ref/qapi/qapi-schema.json" ]; then
    echo "SKIP: QEMU schemas not found under $ref"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$gen" -o "$tmp/qapi" "$ref/qapi/qapi-schema.json" || exit 1
"$gen" -p qga- -o "$tmp/qga" "$ref/qga/qapi-schema.json" || exit 1
"$gen" -o "$tmp/storage-daemon/qapi" \
    "$ref/storage-daemon/qapi/qapi-schema.json" || exit 1

for d in qapi qga storage-daemon/qapi; do
    dir=$tmp/$d
    n=$(ls "$dir"/*.c | wc -l)
    bytes=$(cat "$dir"/*.c "$dir"/*.h | wc -c)
    defs=$(grep -ho 'defined([A-Za-z0-9_]*)' "$dir"/*.c "$dir"/*.h | sort -u |
           sed 's/defined(\(.*\))/-D\1/' | tr '\n' ' ')
    (cd "$dir" && for f in *.c; do echo "#include \"$f\""; done) > "$dir/all.c.in"
    (cd "$dir" && for f in *.h; do echo "#include \"$f\""; done) > "$dir/all.cc"
    mv "$dir/all.c.in" "$dir/all-units.c"
    echo "$d: $n .c files, $bytes bytes, $(echo $defs | wc -w) macros"
    for cc in gcc clang; do
        for cfg in none all; do
            D=
            [ $cfg = all ] && D=$defs
            if ! $cc -std=c11 -Wall -Wextra -Werror $D -I"$inc" -I"$dir" \
                    -c "$dir/all-units.c" -o /dev/null; then
                echo "FAIL: $d with $cc, macros: $cfg"
                fail=1
            else
                echo "ok: $d with $cc, macros: $cfg"
            fi
        done
    done
    for cfg in none all; do
        D=
        [ $cfg = all ] && D=$defs
        if ! g++ -std=c++11 -Wall -Wextra -Werror $D -I"$inc" -I"$dir" \
                -fsyntax-only "$dir/all.cc"; then
            echo "FAIL: $d headers as C++, macros: $cfg"
            fail=1
        else
            echo "ok: $d headers as C++, macros: $cfg"
        fi
    done
done
exit $fail
