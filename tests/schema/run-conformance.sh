#!/bin/sh
# Runs QEMU's schema test cases (../shared/conformance/qapi-schema) through
# `qapi-gen --dump` the way QEMU's harness runs them: in the case directory,
# with the bare file name. stdout must equal STEM.out and stderr STEM.err,
# byte for byte, and the exit status must be 0 for an accepted schema and 1
# for a rejected one.
#   run-conformance.sh QAPI_GEN CASE_DIR [CASES_FILE]
# With CASES_FILE absent, every STEM.json with a STEM.out is a case.
# With MODE=--check in the environment, each case runs `qapi-gen --check`
# instead (doc text not kept, another path through the doc checks): stderr
# and exit status must be the same, stdout empty.
# Exit 77 (skip) when the case directory is absent.
qapi_gen=$1
dir=$2
cases=${3:-}
mode=${MODE:---dump}
if [ ! -d "$dir" ]; then
    echo "SKIP: $dir not found (conformance data absent)"
    exit 77
fi
case $qapi_gen in /*) ;; *) qapi_gen=$(pwd)/$qapi_gen ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$dir" || exit 1
if [ -n "$cases" ]; then
    list=$(cat "$cases")
else
    list=$(for f in *.json; do s=${f%.json}; [ -f "$s.out" ] && echo "$s"; done)
fi
pass=0
fail=0
failed=
for stem in $list; do
    "$qapi_gen" "$mode" $(cat "$stem.args" 2>/dev/null) "$stem.json" \
        >"$tmp/out" 2>"$tmp/err"
    rc=$?
    want=0
    [ -s "$stem.err" ] && want=1
    wantout=$stem.out
    [ "$mode" = --check ] && wantout=/dev/null
    if cmp -s "$tmp/out" "$wantout" && cmp -s "$tmp/err" "$stem.err" &&
       [ "$rc" = "$want" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed="$failed $stem"
        echo "FAIL: $stem (exit $rc, want $want)"
        diff -u "$stem.err" "$tmp/err" | head -20
        diff -u "$wantout" "$tmp/out" | head -20
    fi
done
echo "$pass passed, $fail failed"
[ -n "$failed" ] && echo "failing:$failed"
[ "$fail" = 0 ]
