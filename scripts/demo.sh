#!/bin/sh
# `make demo`: starts qmp-demo on a unix socket in a temporary directory,
# runs the example client that prints the whole exchange, then stops the
# server and cleans up.  Usage: scripts/demo.sh [BUILD_DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac
demo="$build/examples/qmp-demo"
client="$build/examples/demo-client"
for b in "$demo" "$client"; do
    [ -x "$b" ] || { echo "demo: $b is not built (run make first)" >&2; exit 1; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/qmp-demo.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
sock="$dir/qmp.sock"
echo "# starting: qmp-demo --socket $sock"
"$demo" --socket "$sock" &
pid=$!
i=0
while [ ! -S "$sock" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "demo: qmp-demo did not start" >&2
        exit 1
    fi
    sleep 0.05
done
status=0
"$client" "$sock" || status=$?
echo
echo "# stopping the server"
kill -TERM "$pid"
wait "$pid" || status=$?
pid=
exit $status
