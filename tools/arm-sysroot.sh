#!/bin/sh
# The armhf sysroot cross/arm-linux-gnueabihf.ini builds against: the armhf dev packages of
# fwpush's dependencies, fetched with apt-get download and unpacked with dpkg -x into
# /var/cache/fwpush/sysroot-armhf, never installed (a multiarch install of libssl-dev:armhf or
# liburing-dev:armhf can fail on version skew with the amd64 security updates). Needs the armhf
# architecture known to apt (tools/deps.sh --test adds it). Idempotent: does nothing when the
# sysroot holds every package. The C library comes with gcc-arm-linux-gnueabihf.
set -eu
ROOT=${FWP_ARM_SYSROOT:-/var/cache/fwpush/sysroot-armhf}
pkgs="libxxhash-dev libxxhash0 liburing-dev liburing2 libssl-dev libssl3"
[ -f "$ROOT/.done" ] && [ "$(cat "$ROOT/.done")" = "$pkgs" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"	# apt-get download drops to _apt
# shellcheck disable=SC2086
(cd "$tmp" && apt-get download $(for p in $pkgs; do printf '%s:armhf ' "$p"; done)) >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log" >&2; echo "arm-sysroot: apt-get download failed (dpkg --add-architecture armhf; apt-get update?)" >&2; exit 1; }
rm -rf "$ROOT"
mkdir -p "$ROOT"
for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$ROOT"; done
echo "$pkgs" >"$ROOT/.done"
echo "arm-sysroot: $ROOT"
