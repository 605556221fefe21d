#!/usr/bin/env bash
# The core's and the BMC side's unit tests on 32-bit Arm: cross-built static (the build the arm
# rig's guest runs, tests/arm/run.sh) and run under qemu-user (qemu-arm-static), so that the
# 32-bit ABI (4-byte size_t and pointers, 8-byte-aligned uint64_t in structs) goes through the
# same checks as x86-64. Not the tests of the host's reader: it reads through io_uring, which
# qemu-user 7.2 does not emulate (ENOSYS).
#
# Usage: unit.sh SOURCE_DIR WORK_DIR   (meson test --suite arm). Exit 77 only if qemu-arm-static
# is not installed (package qemu-user-static; tools/deps.sh --test).
set -u
SRC=$(cd "$1" && pwd)
WORK=$2
mkdir -p "$WORK"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fwparm-unit.XXXXXX")
trap 'rm -rf "$T_DIR"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v qemu-arm-static >/dev/null ||
	{ echo "SKIP: qemu-arm-static is not installed (package qemu-user-static; tools/deps.sh --test)"; exit 77; }
command -v arm-linux-gnueabihf-gcc >/dev/null ||
	fail "no arm-linux-gnueabihf-gcc (package gcc-arm-linux-gnueabihf; tools/deps.sh --test)"
"$SRC/tools/arm-sysroot.sh" >"$T_DIR/sysroot.log" 2>&1 || fail "tools/arm-sysroot.sh: $(tail -2 "$T_DIR/sysroot.log")"
# The same static cross build as run.sh's (the same directory: the arm suite is not parallel).
if [ ! -f "$WORK/arm/build.ninja" ]; then
	meson setup "$WORK/arm" "$SRC" --cross-file "$SRC/cross/arm-linux-gnueabihf.ini" \
		-Dprefer_static=true -Ddefault_library=static -Dc_link_args=-static \
		-Dcurl=disabled -Ddpdk=disabled -Dman=disabled -Dbuildtype=release \
		>"$T_DIR/setup.log" 2>&1 || { cat "$T_DIR/setup.log"; exit 1; }
fi
tests="wire mem bmc opts flash pci stats hash"
targets=()
for t in $tests; do targets+=("tests/unit/test_$t:executable"); done
meson compile -C "$WORK/arm" "${targets[@]}" >"$T_DIR/build.log" 2>&1 || { tail -30 "$T_DIR/build.log"; exit 1; }
fails=0
for t in $tests; do
	args=()
	[ "$t" = hash ] && args=(generic)
	out=$(cd "$T_DIR" && timeout 300 qemu-arm-static "$WORK/arm/tests/unit/test_$t" "${args[@]}" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok   - test_$t on armhf: $(echo "$out" | tail -1)"
	else
		fails=$((fails + 1))
		echo "FAIL - test_$t on armhf (exit $rc):"
		echo "$out" | tail -20 | sed 's/^/#   /'
	fi
done
[ "$fails" -eq 0 ] || exit 1
echo "arm unit: $(echo $tests | wc -w) unit tests pass on 32-bit Arm"
