#!/usr/bin/env bash
# The BMC side on BMC silicon: QEMU's AST2600 model (-M ast2600-evb, Cortex-A7, TCG) boots
# Debian's armmp kernel with an initramfs holding a cross-built, static fwpush. The guest's RAM
# is a shared file here, and the kernel is kept out of its top 16 MiB (mem=1008M): there, in the
# BMC's own DRAM, the guest's bmc-sim serves its window through /dev/mem (mem:0xbf000000), the
# way a real BMC exposes a carve-out of its DRAM through its PCIe bridge, and stores into its
# flash in the guest's tmpfs. Here, the x86 fwpush pushes into that window through the file
# (mem:0x3f000000,dev=RAMFILE). Then the guest prints the sha256 of its flash on the serial
# console (equal to the image's: byte for byte), and hammers a 32-bit doorbell at 0xbf800000
# with fwp_store_release while this side reads it with fwp_load_acquire for 2 s, then the other
# way round at 0xbf801000 (tests/arm/torture.c): no torn value either way.
#
# The guest's flash is the AST2600's SPI NOR (QEMU's -drive if=mtd: a 64 MiB raw file here),
# through Linux MTD (spi-nor.ko and spi-aspeed-smc.ko from the kernel package, loaded from the
# initramfs; vmalloc=768M leaves room to map the flash controller's windows): /dev/mtd0, with
# bmc-sim --flash mtd:/dev/mtd0 (engine/bmc/flash_mtd.c). Two pushes: the first image into bank
# A, a second one into bank B. The guest reads both banks back through MTD and prints their
# sha256; once QEMU is gone, the drive file must hold both images and the activation record
# naming bank B (seq 2, in copy 0).
#
# Usage: run.sh SOURCE_DIR WORK_DIR TORTURE FWPUSH (meson test --suite arm; about 25 s on an idle
# machine, the first run also cross-builds and downloads). Exit 77 only if qemu-system-arm
# cannot run; anything else missing (the cross compiler, the armhf packages) is a failure.
set -u
SRC=$(cd "$1" && pwd)
WORK=$2
NATIVE=$3	# the native torture program
FWPUSH=$4	# the native fwpush
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
NAME="fwparm-$$"
RAM="/dev/shm/$NAME-ram"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
QPID=
FAILS=0
DRAM=0x80000000			# the AST2600's DRAM base
WIN=0xbf000000			# the window: mem=1008M leaves 0xbf000000 .. 0xc0000000
DB=0xbf800000			# the torture's doorbell pages: the guest writes this one,
DB2=0xbf801000			# and reads this one
SECS=${FWP_ARM_TORTURE_SECONDS:-2}	# each way of the torture
IMG_SIZE=$(((4 << 20) + 12345))
IMG2_SIZE=$(((1 << 20) + 7))
NOR="$T_DIR/nor.img"		# the SPI NOR's contents
NOR_SIZE=$((64 << 20))

cleanup() {
	[ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
	rm -f "$RAM"
	rm -rf "$T_DIR"
}
trap cleanup EXIT
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok   - $*"; }
not_ok() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
now() { python3 -c 'import time; print(time.monotonic())'; }

command -v qemu-system-arm >/dev/null ||
	skip "qemu-system-arm is not installed (package qemu-system-arm; tools/deps.sh --test)"
printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
	timeout 30 qemu-system-arm -M ast2600-evb -display none -S -qmp stdio >"$T_DIR/probe.log" 2>&1 ||
	skip "qemu-system-arm cannot start an ast2600-evb machine: $(grep -v '^{' "$T_DIR/probe.log" | head -2 | tr '\n' ' ')"
command -v arm-linux-gnueabihf-gcc >/dev/null ||
	fail "no arm-linux-gnueabihf-gcc (package gcc-arm-linux-gnueabihf; tools/deps.sh --test)"
"$SRC/tools/arm-sysroot.sh" >"$T_DIR/sysroot.log" 2>&1 || fail "tools/arm-sysroot.sh: $(tail -2 "$T_DIR/sysroot.log")"

# The armmp kernel and the AST2600 EVB's device tree, unpacked once into WORK.
KDIR=$(ls -d "$WORK"/kernel/usr/lib/linux-image-*-armmp 2>/dev/null | head -1)
if [ -z "$KDIR" ]; then
	pkg=$(apt-cache depends linux-image-armmp:armhf 2>/dev/null |
	      awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || fail "apt-cache knows no kernel for linux-image-armmp:armhf (dpkg --add-architecture armhf; apt-get update)"
	mkdir -p "$WORK/deb" && chmod 755 "$WORK/deb"
	(cd "$WORK/deb" && apt-get download "$pkg" busybox-static:armhf) >"$T_DIR/dl.log" 2>&1 ||
		fail "apt-get download $pkg busybox-static:armhf: $(tail -1 "$T_DIR/dl.log")"
	rm -rf "$WORK/kernel"
	for d in "$WORK"/deb/*.deb; do dpkg-deb -x "$d" "$WORK/kernel"; done
	KDIR=$(ls -d "$WORK"/kernel/usr/lib/linux-image-*-armmp 2>/dev/null | head -1)
fi
KVER=${KDIR##*/linux-image-}
VMLINUZ="$WORK/kernel/boot/vmlinuz-$KVER"
DTB="$KDIR/aspeed-ast2600-evb.dtb"
KMOD="$WORK/kernel/lib/modules/$KVER/kernel/drivers"
for f in "$VMLINUZ" "$DTB" "$WORK/kernel/bin/busybox" "$KMOD/mtd/spi-nor/spi-nor.ko" \
	"$KMOD/spi/spi-aspeed-smc.ko"; do
	[ -f "$f" ] || fail "$f missing"
done

# The BMC side, cross-built static for 32-bit Arm, and the guest half of the torture.
if [ ! -f "$WORK/arm/build.ninja" ]; then
	meson setup "$WORK/arm" "$SRC" --cross-file "$SRC/cross/arm-linux-gnueabihf.ini" \
		-Dprefer_static=true -Ddefault_library=static -Dc_link_args=-static \
		-Dcurl=disabled -Ddpdk=disabled -Dman=disabled -Dbuildtype=release \
		>"$T_DIR/setup.log" 2>&1 || { cat "$T_DIR/setup.log"; exit 1; }
fi
meson compile -C "$WORK/arm" fwpush:executable tests/arm/torture:executable >"$T_DIR/build.log" 2>&1 ||
	{ tail -30 "$T_DIR/build.log"; exit 1; }
file "$WORK/arm/fwpush" | grep -q 'ARM.*statically linked' || fail "$WORK/arm/fwpush is no static ARM program"

head -c "$IMG_SIZE" /dev/urandom >"$T_DIR/img"
head -c "$IMG2_SIZE" /dev/urandom >"$T_DIR/img2"
want=$(sha256sum <"$T_DIR/img" | cut -d' ' -f1)
want2=$(sha256sum <"$T_DIR/img2" | cut -d' ' -f1)
head -c "$NOR_SIZE" /dev/zero >"$NOR"	# not sparse: QEMU writes it in 512-byte pieces

ROOT="$T_DIR/root"
mkdir -p "$ROOT/bin" "$ROOT/lib"
cp "$WORK/kernel/bin/busybox" "$ROOT/bin/busybox"
cp "$KMOD/mtd/spi-nor/spi-nor.ko" "$KMOD/spi/spi-aspeed-smc.ko" "$ROOT/lib/"
cp "$WORK/arm/fwpush" "$ROOT/bin/fwpush"
cp "$WORK/arm/tests/arm/torture" "$ROOT/bin/torture"
cat >"$ROOT/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
echo "GUEST up: \$(uname -m) \$(uname -r)"
insmod /lib/spi-nor.ko && insmod /lib/spi-aspeed-smc.ko
m=/sys/class/mtd/mtd0
echo "GUEST mtd0: \$(cat \$m/name) \$(cat \$m/type) \$(cat \$m/size) bytes, erase \$(cat \$m/erasesize), write \$(cat \$m/writesize)"
fwpush bmc-sim --window mem:$WIN --flash mtd:/dev/mtd0 2>/tmp/bmc.log &
echo "GUEST bmc started"
i=0
while [ \$(grep -c "stored\|session dropped" /tmp/bmc.log) -lt 2 ] && [ \$i -lt 600 ]; do
	sleep 0.1; i=\$((i + 1))
done
echo "RESULT bmc \$(tr '\n' ' ' </tmp/bmc.log)"
eb=\$(cat \$m/erasesize)
bank=\$(( (\$(cat \$m/size) / eb - 2) / 2 ))
echo "RESULT flash \$(dd if=/dev/mtd0 bs=\$eb count=\$(($IMG_SIZE / eb + 1)) 2>/dev/null | head -c $IMG_SIZE | sha256sum)"
echo "RESULT flash2 \$(dd if=/dev/mtd0 bs=\$eb skip=\$bank count=\$(($IMG2_SIZE / eb + 1)) 2>/dev/null | head -c $IMG2_SIZE | sha256sum)"
echo "GUEST torture"
echo "RESULT torture-write \$(torture write mem:$DB,size=4K 2>&1)"
torture read mem:$DB2,size=4K $SECS >/tmp/torture 2>&1
echo "RESULT torture-read \$? \$(cat /tmp/torture)"
echo "GUEST done"
poweroff -f
INIT
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) >"$T_DIR/initrd"

start=$(now)
qemu-system-arm -M ast2600-evb,memory-backend=ram0 \
	-object "memory-backend-file,id=ram0,size=1G,share=on,mem-path=$RAM" \
	-kernel "$VMLINUZ" -dtb "$DTB" -initrd "$T_DIR/initrd" -display none -no-reboot \
	-drive "if=mtd,format=raw,file=$NOR" \
	-append "console=ttyS4,115200 mem=1008M vmalloc=768M quiet panic=-1" \
	-serial stdio </dev/null >"$T_DIR/console" 2>&1 &
QPID=$!
wait_for() { # wait_for PATTERN SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -q "$1" "$T_DIR/console" && return 0
		kill -0 "$QPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
wait_for "GUEST bmc started" 150 || { cat "$T_DIR/console"; fail "the guest did not start its BMC"; }
booted=$(now)
TARGET="mem:$(printf '0x%x' $((WIN - DRAM))),size=8M,dev=$RAM"
for _ in $(seq 20); do
	"$FWPUSH" push "$T_DIR/img" --target "$TARGET" --timeout 30s --json >"$T_DIR/push.json" 2>"$T_DIR/push.err"
	rc=$?
	[ "$rc" -eq 0 ] && break
	grep -q "no BMC\|not sized\|EAGAIN\|published" "$T_DIR/push.err" || break
	sleep 0.2
done
pushed=$(now)
[ "$rc" -eq 0 ] && ok "the host pushed $IMG_SIZE bytes into the guest's window ($TARGET)" ||
	not_ok "the push failed (exit $rc): $(cat "$T_DIR/push.err")"
"$FWPUSH" push "$T_DIR/img2" --target "$TARGET" --timeout 30s --json >"$T_DIR/push2.json" 2>"$T_DIR/push2.err"
rc=$?
[ "$rc" -eq 0 ] && ok "the host pushed a second image, $IMG2_SIZE bytes (bank B)" ||
	not_ok "the second push failed (exit $rc): $(cat "$T_DIR/push2.err")"
wait_for "GUEST torture" 30
"$NATIVE" read "mem:$(printf '0x%x' $((DB - DRAM))),size=4K,dev=$RAM" "$SECS" >"$T_DIR/torture" 2>&1
trc=$?
"$NATIVE" write "mem:$(printf '0x%x' $((DB2 - DRAM))),size=4K,dev=$RAM" >"$T_DIR/torture-w" 2>&1
wrc=$?
wait_for "GUEST done" 30
sleep 0.5
kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; QPID=
end=$(now)
tr -d '\r' <"$T_DIR/console" | grep -v '^\s*$' | sed 's/^/# guest: /'
got=$(tr -d '\r' <"$T_DIR/console" | sed -n 's/^RESULT flash \([0-9a-f]*\).*/\1/p')
[ -n "$got" ] && [ "$got" = "$want" ] && ok "the guest's bank A, read back through MTD, is the first image byte for byte (sha256 $want)" ||
	not_ok "the guest's bank A (sha256 ${got:-none}) is not the first image (sha256 $want)"
got=$(tr -d '\r' <"$T_DIR/console" | sed -n 's/^RESULT flash2 \([0-9a-f]*\).*/\1/p')
[ -n "$got" ] && [ "$got" = "$want2" ] && ok "the guest's bank B, read back through MTD, is the second image (sha256 $want2)" ||
	not_ok "the guest's bank B (sha256 ${got:-none}) is not the second image (sha256 $want2)"
# The chip as QEMU left it: both images, and the record (struct fwp_flash_rec, little-endian:
# magic, seq, bank, reserved, size, check) in copy 0, at the size less two erase blocks.
eb=$(tr -d '\r' <"$T_DIR/console" | sed -n 's/^GUEST mtd0: .* erase \([0-9]*\),.*/\1/p')
nor=$(python3 - "$NOR" "$T_DIR/img" "$T_DIR/img2" "${eb:-0}" <<'PY'
import struct, sys
nor, a, b = (open(f, "rb").read() for f in sys.argv[1:4])
eb = int(sys.argv[4]) or 4096
bank = (len(nor) // eb - 2) // 2 * eb
magic, seq, which, _, size, _ = struct.unpack_from("<QQIIQQ", nor, len(nor) - 2 * eb)
print("ok" if nor[:len(a)] == a and nor[bank:bank + len(b)] == b and magic == 0x3141544d50575046
      and (seq, which, size) == (2, 1, len(b)) else "bad",
      f"record seq {seq} bank {which} size {size}, bank B at {bank:#x}")
PY
)
[ "${nor%% *}" = ok ] && ok "the NOR file holds both images and the record naming bank B: ${nor#* }" ||
	not_ok "the NOR file QEMU wrote: ${nor:-unreadable}"
w=$(tr -d '\r' <"$T_DIR/console" | sed -n 's/^RESULT torture-write //p')
[ "$trc" -eq 0 ] && ok "doorbell torture, guest to host: the guest's ${w:-?}, here $(cat "$T_DIR/torture")" ||
	not_ok "doorbell torture, guest to host (exit $trc): guest ${w:-?}, here $(cat "$T_DIR/torture")"
r=$(tr -d '\r' <"$T_DIR/console" | sed -n 's/^RESULT torture-read //p')
[ "$wrc" -eq 0 ] && [ "${r%% *}" = 0 ] && ok "doorbell torture, host to guest: here $(cat "$T_DIR/torture-w"), the guest's ${r#* }" ||
	not_ok "doorbell torture, host to guest (writer exit $wrc: $(cat "$T_DIR/torture-w")): ${r:-no result from the guest}"
python3 - "$start" "$booted" "$pushed" "$end" "$IMG_SIZE" "$T_DIR/push.json" "$IMG2_SIZE" \
	"$T_DIR/push2.json" <<'PY'
import json, sys
s, b, p, e, size = map(float, sys.argv[1:6])
def load(path):
    try:
        return json.load(open(path))
    except Exception:
        return {}
r, r2 = load(sys.argv[6]), load(sys.argv[8])
secs, secs2 = r.get("seconds") or 0, r2.get("seconds") or 0
print(f"# boot to BMC up {b - s:.1f} s, QEMU start to image pushed {p - s:.1f} s, whole run "
      f"{e - s:.1f} s; the push itself {secs:.2f} s, "
      f"{size / 1e6 / secs if secs else 0:.2f} MB/s through the emulated BMC into its SPI NOR "
      f"(the second, {int(sys.argv[7])} bytes: {secs2:.2f} s; TCG: a correctness rig, not a "
      f"speed claim)")
print("# push --json: " + json.dumps(r)[:400])
PY
[ "$FAILS" -eq 0 ] || exit 1
echo "arm: all checks passed"
