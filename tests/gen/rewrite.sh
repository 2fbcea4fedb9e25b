#!/bin/sh
# SPDX-License-Identifier: MIT
# qapi-gen rewrites a file only when its content changes (its mtime tells
# make and ninja what to rebuild), and a rewritten file ends up exactly as
# a fresh run writes it, whether the old one was longer or shorter.
# Usage: rewrite.sh QAPI_GEN SRCDIR
set -eu
gen=$1
schema=$2/examples/hello/hello.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" -o "$tmp/ref" "$schema"
"$gen" -o "$tmp/out" "$schema"
diff -r "$tmp/ref" "$tmp/out"

# unchanged: nothing is touched
touch -d 2001-01-01 "$tmp"/out/*
"$gen" -o "$tmp/out" "$schema"
old=$(find "$tmp/out" -type f ! -newermt 2001-01-02 | wc -l)
all=$(find "$tmp/out" -type f | wc -l)
[ "$old" = "$all" ] || { echo "unchanged files were rewritten"; exit 1; }

# longer, shorter, same length but different, empty: all put right
f=$tmp/out/qapi-types.c
printf 'junk\n' >> "$f"
printf 'x' > "$tmp/out/qapi-types.h"
printf 'X' | dd of="$tmp/out/qapi-visit.c" conv=notrunc 2>/dev/null
: > "$tmp/out/qapi-commands.c"
"$gen" -o "$tmp/out" "$schema"
diff -r "$tmp/ref" "$tmp/out"
# and only those four were written
new=$(find "$tmp/out" -type f -newermt 2001-01-02 | wc -l)
[ "$new" = 4 ] || { echo "$new files rewritten, expected 4"; exit 1; }
echo ok
