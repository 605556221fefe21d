#!/bin/sh
# Installs what is needed, builds, and runs every test twice: a release build, then a build
# with AddressSanitizer and UndefinedBehaviorSanitizer; then the libFuzzer targets for a short
# while, built with clang; and the cross build for 32-bit Arm (cross/). The vm suite (a QEMU
# guest driving real PCI BARs with a static fwpush of its own), the arm suite (QEMU's AST2600
# running the cross-built BMC side) and the efi suite (fwpush.efi, cross-built with
# cross/x86_64-efi.ini, booted by OVMF) run once, with the release build. Then
# tools/mutants.sh --quick: every planted bug of tests/mutants.list but the few marked slow must
# be caught (tools/mutants.sh runs those too). Ends with "tests: N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh --test

run_suite() { # run_suite BUILDDIR "MESON_TEST_OPTIONS" [meson setup options]
	dir=$1 which=$2; shift 2
	[ -d "$dir" ] || meson setup "$dir" "$@"
	# shellcheck disable=SC2086
	meson test -C "$dir" --print-errorlogs --num-processes 2 $which
}

count() { # count BUILDDIR: OK/FAIL totals from meson's JSON log
	python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: bad += 1
print(ok, bad, skip)
PY
}

status=0
run_suite build --no-suite=fuzz || status=1
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# (not install: a program built outside the tree cannot link a sanitized libfwpush)
run_suite build-san "--no-suite=vm --no-suite=install --no-suite=arm --no-suite=efi" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
	|| status=1
# The BMC side cross-built for 32-bit Arm (the arm suite above runs it on QEMU's AST2600).
tools/arm-sysroot.sh || status=1
[ -d build-arm ] || meson setup build-arm --cross-file cross/arm-linux-gnueabihf.ini || status=1
meson compile -C build-arm || status=1
[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dbuildtype=debugoptimized
meson test -C build-fuzz --suite fuzz --print-errorlogs || status=1
# The unmutated run of the mutants' tests is the suite above, on this tree: skipped when it passed.
if [ "$status" = 0 ]; then
	FWPUSH_MUTANTS_JOBS=${FWPUSH_MUTANTS_JOBS:-3} tools/mutants.sh --quick --no-baseline || status=1
else
	tools/mutants.sh --quick || status=1
fi
set -- $(count build) $(count build-san) $(count build-fuzz)
echo "tests: $(($1 + $4 + $7)) passed, $(($2 + $5 + $8)) failed, $(($3 + $6 + $9)) skipped"
exit $status
