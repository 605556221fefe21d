#!/usr/bin/env bash
# fwpush.efi end to end: QEMU (q35, TCG) boots Debian's OVMF into the UEFI shell, whose ESP is a
# vvfat drive made from a directory here holding fwpush.efi (built by this script with
# cross/x86_64-efi.ini), two images and their signatures, fwpush.cfg and startup.nsh. Two
# ivshmem-plain devices: 00:11.0's BAR2 is the window of an `fwpush bmc-sim --pubkey` on this
# side (it activates only images signed with its key), 00:10.0's BAR2 is memory no BMC serves
# (first: a search passes it before it finds the window). In one boot the shell runs fwpush.efi
# eight times and echoes each one's EFI status:
#   cfg     fwpush.efi without arguments: fwpush.cfg names a small image and its signature, the
#           window is found by scanning every device's prefetchable BARs; 00:10.0, whose
#           memory decoding `mm` turned off, is searched and left as it was found (off);
#   missing an image that is not on the ESP: its line, EFI_NOT_FOUND, and no waiting;
#   help    --help: the whole usage (longer than one console write), EFI_SUCCESS;
#   usage   an option without its value: its line, EFI_INVALID_PARAMETER;
#   absent  the BAR nobody serves, --timeout 1s: its line and EFI_TIMEOUT;
#   nosig   a --signature file that is not there: its line, EFI_NOT_FOUND;
#   badsig  the main image signed with another key: the BMC's refusal, EFI_ACCESS_DENIED;
#   push    the main image, signed, by --bdf/--bar, after the shell's `mm` turned 00:11.0's
#           memory decoding off (as real firmware may leave it): fwpush.efi turns it on,
#           EFI_SUCCESS.
# Here: the flash equals the main image byte for byte, the hash line equals `xxhsum -H2`, and
# bmc-sim logged exactly the two verified sessions and the one it dropped. Boot-to-exit time and
# the push's throughput under TCG are printed (a correctness rig, not a speed claim).
#
# Usage: run.sh SOURCE_DIR WORK_DIR FWPUSH   (meson test --suite efi; FWPUSH runs bmc-sim).
# Exit 77 only if QEMU or OVMF cannot run here.
set -u
SRC=$(cd "$1" && pwd)
WORK=$2
FWPUSH=$3
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
NAME="fwpefi-$$"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
BMC_PID=
FAILS=0
CHECKS=0
SIZE=$(((12 << 20) + 4097))	# the main image: not a whole number of chunks
SMALL=$(((1 << 20) + 3))
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

cleanup() {
	[ -n "$BMC_PID" ] && kill -9 "$BMC_PID" 2>/dev/null && wait "$BMC_PID" 2>/dev/null
	rm -f /dev/shm/"$NAME"-*
	rm -rf "$T_DIR"
}
trap cleanup EXIT
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { CHECKS=$((CHECKS + 1)); echo "ok   - $*"; }
not_ok() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

# --- what the rig needs ------------------------------------------------------------------------
# Packages are installed when missing (as root); a skip (77) means only that QEMU or OVMF
# cannot run here. Anything else missing (the toolchain, gnu-efi, xxhsum) is a failure.
missing=""
for p in qemu-system-x86 ovmf clang lld gnu-efi xxhash; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || fail "missing packages:$missing (not root, cannot install; run tools/deps.sh --test)"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
		>"$T_DIR/apt.log" 2>&1 ||
		apt_err="apt-get install$missing failed: $(tail -1 "$T_DIR/apt.log")"
fi
for c in clang ld.lld xxhsum; do command -v "$c" >/dev/null || fail "$c not found${apt_err:+; $apt_err}"; done

# --- fwpush.efi, cross-built beside the test's build (before the skip: it needs no QEMU) --------
echo "# building fwpush.efi in $WORK/build-efi"
if [ ! -f "$WORK/build-efi/build.ninja" ]; then
	meson setup "$WORK/build-efi" "$SRC" --cross-file "$SRC/cross/x86_64-efi.ini" \
		>"$T_DIR/setup.log" 2>&1 || { cat "$T_DIR/setup.log"; exit 1; }
fi
meson compile -C "$WORK/build-efi" >"$T_DIR/build.log" 2>&1 || { tail -30 "$T_DIR/build.log"; exit 1; }
# A PE32+ image whose subsystem is 10, EFI application (PE/COFF: the optional header's word 68).
python3 - "$WORK/build-efi/fwpush.efi" <<'PY' || fail "$WORK/build-efi/fwpush.efi is not an x86-64 EFI application"
import struct, sys
b = open(sys.argv[1], "rb").read()
pe = struct.unpack_from("<I", b, 0x3c)[0]
opt = pe + 24
sys.exit(not (b[:2] == b"MZ" and b[pe:pe + 4] == b"PE\0\0" and
              struct.unpack_from("<H", b, pe + 4)[0] == 0x8664 and
              struct.unpack_from("<H", b, opt)[0] == 0x20b and
              struct.unpack_from("<H", b, opt + 68)[0] == 10))
PY

# --- can QEMU boot OVMF here? (the one reason to skip) -----------------------------------------
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 is not installed (package qemu-system-x86)${apt_err:+; $apt_err}"
[ -f "$OVMF_CODE" ] && [ -f "$OVMF_VARS" ] ||
	skip "OVMF is not installed ($OVMF_CODE; package ovmf)${apt_err:+; $apt_err}"
[ -z "${apt_err:-}" ] || fail "$apt_err"
printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
	timeout 60 qemu-system-x86_64 -machine q35 -accel tcg -m 256M -nodefaults -display none \
	-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" -S -qmp stdio \
	>"$T_DIR/probe.log" 2>&1 ||
	skip "qemu-system-x86_64 cannot start a q35 machine with OVMF under TCG (exit $?):" \
		"$(grep -v '^{' "$T_DIR/probe.log" | head -3 | tr '\n' ' ')"

# --- the BMC, and a BAR nobody serves ----------------------------------------------------------
ESP="$T_DIR/esp"
mkdir -p "$ESP"
cp "$WORK/build-efi/fwpush.efi" "$ESP/"
head -c "$SIZE" /dev/urandom >"$ESP/fw.bin"
head -c "$SMALL" /dev/urandom >"$ESP/small.bin"
# The BMC activates only images signed with its key: every push carries a signature.
"$FWPUSH" keygen --out "$T_DIR/key" >/dev/null && "$FWPUSH" keygen --out "$T_DIR/other" >/dev/null &&
"$FWPUSH" sign "$ESP/fw.bin" --key "$T_DIR/key" --out "$ESP/fw.sig" >/dev/null &&
"$FWPUSH" sign "$ESP/small.bin" --key "$T_DIR/key" --out "$ESP/small.sig" >/dev/null &&
"$FWPUSH" sign "$ESP/fw.bin" --key "$T_DIR/other" --out "$ESP/fw.bad" >/dev/null ||
	fail "fwpush keygen/sign failed"
printf '# fwpush.efi without arguments reads this\r\nsmall.bin --signature small.sig\r\n' \
	>"$ESP/fwpush.cfg"
"$FWPUSH" bmc-sim --window "shm:$NAME-bmc" --flash "$T_DIR/flash" --slots 4 --slot-size 256K \
	--pubkey "$T_DIR/key.pub" 2>"$T_DIR/bmc.log" &
BMC_PID=$!
for _ in $(seq 100); do [ -s "/dev/shm/$NAME-bmc" ] && break; sleep 0.05; done
[ -s "/dev/shm/$NAME-bmc" ] || fail "bmc-sim did not start: $(cat "$T_DIR/bmc.log")"
truncate -s "$(stat -c %s "/dev/shm/$NAME-bmc")" "/dev/shm/$NAME-absent"

# The shell runs startup.nsh from the ESP; %lasterror% is the status the application returned.
cat >"$ESP/startup.nsh" <<'NSH'
fs0:
mm 0000100004 0 -w 2 -pci
fwpush.efi
echo "EFI-STATUS cfg %lasterror%"
echo "EFI-COMMAND-REGISTER searched"
mm 0000100004 -w 2 -pci -n
fwpush.efi missing.bin --bdf 00:11.0 --bar 2
echo "EFI-STATUS missing %lasterror%"
fwpush.efi --help
echo "EFI-STATUS help %lasterror%"
fwpush.efi fw.bin --bdf 00:11.0 --bar
echo "EFI-STATUS usage %lasterror%"
fwpush.efi fw.bin --bdf 00:10.0 --bar 2 --timeout 1s
echo "EFI-STATUS absent %lasterror%"
fwpush.efi fw.bin --bdf 00:11.0 --bar 2 --signature nope.sig
echo "EFI-STATUS nosig %lasterror%"
fwpush.efi fw.bin --bdf 00:11.0 --bar 2 --signature fw.bad
echo "EFI-STATUS badsig %lasterror%"
mm 0000110004 0 -w 2 -pci
echo "EFI-COMMAND-REGISTER pushed"
mm 0000110004 -w 2 -pci -n
fwpush.efi fw.bin --bdf 00:11.0 --bar 2 --timeout 10s --signature fw.sig
echo "EFI-STATUS push %lasterror%"
reset -s
NSH
sed -i 's/$/\r/' "$ESP/startup.nsh"

# --- boot --------------------------------------------------------------------------------------
cp "$OVMF_VARS" "$T_DIR/vars.fd"
qemu_args=(-machine q35 -accel tcg -m 512M -nodefaults -display none -no-reboot -serial stdio
	-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
	-drive "if=pflash,format=raw,unit=1,file=$T_DIR/vars.fd"
	-drive "file=fat:$ESP,format=raw,if=virtio,readonly=on")
for d in absent:10 bmc:11; do
	qemu_args+=(-object "memory-backend-file,id=m${d%:*},share=on,mem-path=/dev/shm/$NAME-${d%:*},size=$(stat -c %s "/dev/shm/$NAME-${d%:*}")"
		-device "ivshmem-plain,memdev=m${d%:*},bus=pcie.0,addr=0x${d#*:}")
done
echo "# booting OVMF under TCG"
start=$EPOCHREALTIME
# A space on the serial console every half second ends the shell's 5 s countdown before
# startup.nsh at once (any key but ESC does); the writer stops when QEMU is gone.
while printf ' ' 2>/dev/null; do sleep 0.5; done |
	timeout 120 qemu-system-x86_64 "${qemu_args[@]}" >"$T_DIR/console" 2>&1
rc=${PIPESTATUS[1]}
secs=$(python3 -c "print(f'{$EPOCHREALTIME - $start:.1f}')")
# The console without its escape sequences and carriage returns.
sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$T_DIR/console" | tr -d '\r' | grep -v '^\s*$' >"$T_DIR/log"
sed 's/^/# console: /' "$T_DIR/log" | grep -v 'Press ESC in'
[ "$rc" -eq 124 ] && rc="124: still running after 120 s, killed"
check "QEMU booted OVMF, ran the shell script and powered off (exit $rc, $secs s)" [ "$rc" = 0 ]

# --- verdicts ----------------------------------------------------------------------------------
status() { sed -n "s/^EFI-STATUS $1 //p" "$T_DIR/log" | head -1; }
# The shell shows an error status without its high bit: EFI_NOT_FOUND is 0xE, EFI_TIMEOUT 0x12.
EFI_NOT_FOUND=0xE
EFI_TIMEOUT=0x12
EFI_ACCESS_DENIED=0xF
h=$(xxhsum -H2 "$ESP/fw.bin" 2>/dev/null | cut -d' ' -f1)
hs=$(xxhsum -H2 "$ESP/small.bin" 2>/dev/null | cut -d' ' -f1)
line=$(grep -m1 "^pushed fw.bin " "$T_DIR/log")
# The command register as `mm` read it back after the line that names the moment.
register_off() { grep -A2 -x "EFI-COMMAND-REGISTER $1" "$T_DIR/log" | grep -qx 0x0000; }
check "push: the shell had turned 00:11.0's memory decoding off" register_off pushed
check "push: EFI_SUCCESS ($(status push))" [ "$(status push)" = 0x0 ]
check "push: the result line of fwpush push ($line)" \
	bash -c '[[ "$1" == "pushed fw.bin to pci:00:11.0,bar=2: $2 bytes in "*" ms ("*" GB/s), 4 slots x 262144 bytes, XXH3-128 "*" verified by the BMC" ]]' _ "$line" "$SIZE"
check "push: progress on the console, up to the BMC's verifying" \
	grep -q "100% stored ($SIZE bytes), the BMC verifies and syncs$" "$T_DIR/log"
check "push: its hash is xxhsum -H2's ($h)" [ "$(echo "$line" | sed -n 's/.*XXH3-128 \([0-9a-f]*\) .*/\1/p')" = "$h" ]
check "push: the BMC's flash equals the image byte for byte" cmp -s "$ESP/fw.bin" "$T_DIR/flash"
check "cfg: EFI_SUCCESS ($(status cfg))" [ "$(status cfg)" = 0x0 ]
check "cfg: fwpush.cfg's image, its window found by scanning and named where it was found" \
	grep -q "^pushed small.bin to pci:0000:00:11.0,bar=2,offset=0: $SMALL bytes .* XXH3-128 $hs verified by the BMC" "$T_DIR/log"
check "cfg: the device searched in vain was left with its memory decoding off" \
	register_off searched
check "missing: one line naming the file" grep -qx "fwpush: image missing.bin: no such file" "$T_DIR/log"
check "missing: EFI_NOT_FOUND ($(status missing))" [ "$(status missing)" = "$EFI_NOT_FOUND" ]
check "help: the whole usage, EFI_SUCCESS ($(status help))" \
	bash -c 'grep -q "^usage: fwpush.efi IMAGE" "$1" && grep -q "^Without arguments, they are read from fwpush.cfg beside fwpush.efi.$" "$1" && [ "$2" = 0x0 ]' _ "$T_DIR/log" "$(status help)"
check "usage: one line naming the option, EFI_INVALID_PARAMETER ($(status usage))" \
	bash -c 'grep -qx "fwpush: --bar needs a value (try fwpush.efi --help)" "$1" && [ "$2" = 0x2 ]' _ "$T_DIR/log" "$(status usage)"
check "absent: one line naming the device" \
	grep -qx "fwpush: target pci:00:10.0,bar=2: no BMC answered within 1.0 s" "$T_DIR/log"
check "absent: EFI_TIMEOUT ($(status absent))" [ "$(status absent)" = "$EFI_TIMEOUT" ]
check "nosig: one line naming the signature file, EFI_NOT_FOUND ($(status nosig))" \
	bash -c 'grep -qx "fwpush: signature nope.sig: No such file or directory" "$1" && [ "$2" = "$3" ]' \
	_ "$T_DIR/log" "$(status nosig)" "$EFI_NOT_FOUND"
check "badsig: signed with another key: the BMC's refusal, EFI_ACCESS_DENIED ($(status badsig))" \
	bash -c 'grep -qx "fwpush: target pci:00:11.0,bar=2: BMC refused FINISH: signature does not verify with the BMC.s key (status 14)" "$1" && [ "$2" = "$3" ]' \
	_ "$T_DIR/log" "$(status badsig)" "$EFI_ACCESS_DENIED"
kill -TERM "$BMC_PID"
wait "$BMC_PID"
BMC_PID=
check "bmc-sim stored exactly the two signed images, each verified with its hash, and dropped the badly signed one" \
	[ "$(grep -c "stored $SMALL bytes .*XXH3-128 $hs" "$T_DIR/bmc.log")/$(grep -c "stored $SIZE bytes .*XXH3-128 $h" "$T_DIR/bmc.log")/$(grep -c "signature does not verify" "$T_DIR/bmc.log")/$(wc -l <"$T_DIR/bmc.log")" = 1/1/1/3 ]
gbps=$(echo "$line" | sed -n 's/.*(\([0-9.]*\) GB\/s).*/\1/p')
echo "# boot to exit: $secs s (OVMF, the shell, eight runs of fwpush.efi); push: $SIZE bytes at ${gbps:-?} GB/s under TCG"
echo "# $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
