#!/bin/sh
# `meson install` puts the shared and static library, every public header
# and qmpkit.pc in place, and a program builds against the installed copy
# through pkg-config alone.
set -eu
build=$1 cc=${2:-cc}
dest=$(mktemp -d "${TMPDIR:-/tmp}/qk-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT INT TERM
meson install -C "$build" --destdir "$dest" --no-rebuild >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
    python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root="$dest$prefix"
pass=0 fail=0
need() { if [ -e "$1" ]; then pass=$((pass + 1)); else echo "missing: $1"; fail=$((fail + 1)); fi; }
lib=$(find "$root" -name 'libqmpkit.so.*' | head -1); need "${lib:-$root/lib/libqmpkit.so}"
lib=$(find "$root" -name 'libqmpkit.a' | head -1); need "${lib:-$root/lib/libqmpkit.a}"
pc=$(find "$root" -name 'qmpkit.pc' | head -1); need "${pc:-$root/lib/pkgconfig/qmpkit.pc}"
for h in "$(dirname "$0")"/../../include/qmpkit/*.h; do
    need "$root/include/qmpkit/$(basename "$h")"
done
# Build a program against the installed tree through pkg-config.
cat > "$dest/use.c" <<'C'
#include <qmpkit/qmpkit.h>
int main(void)
{
    qk_json *v = qk_json_parse("{\"a\": 1}", 8, QK_JSON_QMP, NULL);
    int ok = v && qk_json_object_size(v) == 1;
    qk_json_unref(v);
    return !ok;
}
C
export PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --define-variable=prefix="$root" --cflags --libs qmpkit)
if $cc -std=c11 -Wall -Werror "$dest/use.c" -o "$dest/use" $flags &&
   LD_LIBRARY_PATH="$(dirname "$(find "$root" -name 'libqmpkit.so.*' | head -1)")" "$dest/use"; then
    pass=$((pass + 1))
else
    echo "a program did not build or run against the installed library"; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
