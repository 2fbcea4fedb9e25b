#!/bin/sh
# qmp-json: output forms, error reports with line and column, exit codes.
set -u
tool=$1
pass=0 fail=0
check() { # name, expected, actual
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); printf 'FAIL %s\n--- want\n%s\n--- got\n%s\n' "$1" "$2" "$3"; fi
}
out=$(printf "{'execute': 'x', \"id\": 1} [1,2]\n3" | "$tool")
check "qmp stream" '{"execute": "x", "id": 1}
[1, 2]
3' "$out"
out=$(printf '{"return": {}}' | "$tool" --pretty)
check "pretty" '{
    "return": {
    }
}' "$out"
out=$(printf '"t\303\251st\360\237\230\200"' | "$tool")
check "ascii output" '"t\u00E9st\uD83D\uDE00"' "$out"
out=$(printf '[1,\n  x] {"a":1}' | "$tool" 2>&1 >/dev/null); rc=$?
check "error report" "<stdin>:2:3: JSON parse error, invalid keyword 'x'" "$out"
check "error exit" 1 $rc
out=$(printf '[1,\n  x] {"a":1}' | "$tool" 2>/dev/null)
check "qmp goes on after an error" '{"a": 1}' "$out"
out=$(printf '[1] @ [2]' | "$tool" --strict 2>&1); rc=$?
check "strict stops" "[1]
<stdin>:1:5: JSON parse error, stray '@'" "$out"
check "strict exit" 1 $rc
out=$(printf '\001' | "$tool" 2>&1)
check "escaped stray" "<stdin>:1:1: JSON parse error, stray '\\u0001'" "$out"
"$tool" --bogus >/dev/null 2>&1; check "usage exit" 2 $?
"$tool" /nonexistent/file >/dev/null 2>&1; check "missing file" 2 $?
"$tool" --help | grep -q '^Usage: qmp-json'; check "help" 0 $?
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
