#!/bin/sh
# Installs the Debian packages fwpush needs. Idempotent: runs apt only when something is
# missing.
#   tools/deps.sh          what the build and `fwpush --bench` need
#   tools/deps.sh --test   that, and what the tests and the reports need (QEMU, the fuzzers'
#                          clang, the static DPDK build's libraries, xxhsum, openssl, man,
#                          python3-xxhash for the conformance suite, libmicrohttpd-dev,
#                          libjson-c-dev, curl, fwupd and ansible for bmc-sim --redfish and its suite,
#                          lld, gnu-efi and OVMF for fwpush.efi and the efi suite)
set -eu
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
# --test: the arm suite's armhf packages (its kernel, busybox, the sysroot tools/arm-sysroot.sh
# unpacks for cross/arm-linux-gnueabihf.ini) come through apt-get download: apt must know armhf.
if [ "${1:-}" = --test ] && ! dpkg --print-foreign-architectures | grep -qx armhf; then
	$sudo dpkg --add-architecture armhf
	$sudo apt-get update -q
fi
pkgs="gcc libc6-dev meson ninja-build pkg-config python3 liburing-dev libxxhash-dev \
libcurl4-openssl-dev libssl-dev libdpdk-dev scdoc"
[ "${1:-}" != --test ] || pkgs="$pkgs xxhash clang libclang-rt-dev hyperfine gnuplot-nox \
libnuma-dev libfdt-dev libbsd-dev libmd-dev qemu-system-x86 busybox-static cpio openssl man-db \
python3-xxhash gcc-arm-linux-gnueabihf qemu-system-arm libmicrohttpd-dev libjson-c-dev \
libcrypt-dev curl fwupd ansible"
# the efi suite: fwpush.efi (clang above, lld, gnu-efi's headers) booted by OVMF under QEMU
[ "${1:-}" != --test ] || pkgs="$pkgs lld gnu-efi ovmf"
# the arm suite's unit tests: the armhf build run under qemu-user (tests/arm/unit.sh)
[ "${1:-}" != --test ] || pkgs="$pkgs qemu-user-static"
# the terminal progress of a push to many targets, tested in a real terminal (tmux)
[ "${1:-}" != --test ] || pkgs="$pkgs tmux"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -n "$missing" ] || exit 0
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
