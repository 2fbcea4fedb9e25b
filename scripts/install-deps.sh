#!/bin/sh
# Installs the Debian packages qmpkit needs to build, test and benchmark.
# As root it runs apt-get; otherwise it prints the command to run.
# QEMU (qemu-system-x86, qemu-guest-agent) is installed for the interop
# tests; without it those tests skip with a message. locales-all provides
# de_DE.UTF-8 for the writer's locale-independence test. libglib2.0-dev
# builds and tests the GLib main-loop server example.
set -eu
pkgs="meson ninja-build gcc clang pkg-config binutils libcmocka-dev \
libjansson-dev libjson-c-dev libclang-rt-dev qemu-system-x86 qemu-guest-agent \
locales-all libglib2.0-dev"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: not a Debian system; install by hand: $pkgs" >&2
    exit 0
fi
missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
