#!/bin/sh
# SPDX-License-Identifier: MIT
# qapi-gen --check checks a schema and writes nothing: exit 0 for a good
# schema, 1 with the diagnostic for a bad one, and no file in either case.
# Usage: check-only.sh QAPI_GEN SRCDIR
set -eu
gen=$1
schema=$2/examples/hello/hello.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$gen" --check "$schema" > out.txt 2> err.txt
[ ! -s out.txt ] && [ ! -s err.txt ] || { echo "output for a good schema"; exit 1; }

printf "{ 'command': 'x', 'data': { 'a': 'nope' } }\n" > bad.json
if "$gen" --check bad.json > out.txt 2> err.txt; then
    echo "a bad schema passed"; exit 1
fi
grep -q "uses unknown type 'nope'" err.txt || { cat err.txt; exit 1; }
left=$(ls | grep -v -e '^out.txt$' -e '^err.txt$' -e '^bad.json$' || true)
[ -z "$left" ] || { echo "files written: $left"; exit 1; }
echo ok
