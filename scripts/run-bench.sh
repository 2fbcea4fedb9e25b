#!/bin/sh
# Runs every benchmark built in BUILD_DIR/bench, one after the other (never
# as timed tests). Inputs come from ../shared/bench-data.
set -eu
build=${1:-build-rel}
root=$(cd "$(dirname "$0")/.." && pwd)
export QK_SHARED="${QK_SHARED:-$root/../shared}"
export QK_SRCDIR="$root"
export QK_BUILDDIR="$root/$build"
found=0
for b in $(find "$build/bench" -type f -perm -u+x -name 'bench-*' | sort); do
    found=1
    echo "== $(basename "$b")"
    "$b"
    echo
done
[ "$found" = 1 ] || echo "run-bench: no benchmarks built in $build/bench"
