#!/bin/sh
# Installs the Debian packages fwpush needs to build, test and benchmark. Idempotent: runs apt
# only when something is missing.
set -eu
pkgs="gcc libc6-dev meson ninja-build pkg-config python3 liburing-dev libxxhash-dev xxhash \
libcurl4-openssl-dev libssl-dev clang libclang-rt-dev \
hyperfine gnuplot-nox scdoc \
libdpdk-dev libnuma-dev libfdt-dev libbsd-dev libmd-dev \
qemu-system-x86 busybox-static cpio"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -n "$missing" ] || exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
