#!/usr/bin/env bash
# The real PCI path, end to end: QEMU (TCG) boots a Debian cloud kernel with three ivshmem-plain
# devices behind an emulated Intel IOMMU. Each device's BAR2 is a file in /dev/shm that an
# fwpush bmc-sim on this side created and serves, so the guest's writes to the BAR are the
# BMC's window. Inside the guest a static fwpush pushes one image through pci: (sysfs), one
# through vfio: (vfio-pci, type1) and one through dpdk: (DPDK EAL/PCI), after one negative case
# (vfio: on a device not bound to vfio-pci). Here: every flash equals its image byte for byte.
# A fourth device, ivshmem-doorbell, has register doorbells and interrupts (PROTOCOL.md 8): its
# chardev socket reaches the ivshmem server inside `bmc-sim --ivshmem` here, which sleeps on its
# doorbell; in the guest, fwpush pushes through vfio:, rings the BMC's Doorbell register after
# each doorbell and sleeps on MSI-X vector 0 for the answers ("interrupts" in --json counts them).
# The BMCs of the pci: and vfio: devices put their windows 64 KiB into the BAR (bmc-sim's
# shm:NAME,offset=64K, zeros before it), and the guest names no offset=: each push must find the
# window by searching the BAR (PROTOCOL.md 1.3); one told a wrong offset= must fail cleanly.
#
# Usage: run.sh SOURCE_DIR WORK_DIR   (meson test --suite vm). Exit 77 only if QEMU cannot run.
set -u
SRC=$(cd "$1" && pwd)
WORK=$2
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
NAME="fwpvm-$$"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
PIDS=()
FAILS=0
CHECKS=0
# Device, guest address, transport, image size: the four pushes (d: with interrupts).
DEVS=(a b c d)
ADDR=(10 11 12 13)
VIA=(pci vfio dpdk irq)
SIZE=($((8 << 20)) $(((8 << 20) + 4097)) $(((6 << 20) + 12345)) $(((4 << 20) + 999)))
# Where each BMC puts its window in its BAR: pci: and vfio: search for theirs, dpdk: and the
# doorbell device find theirs at 0 as before.
WOFF=($((64 << 10)) $((64 << 10)) 0 0)
IVS="$T_DIR/ivs-d.sock"

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -f /dev/shm/"$NAME"-*
	rm -rf "$T_DIR"
}
trap cleanup EXIT
skip() { echo "SKIP: $*"; exit 77; }
ok() { CHECKS=$((CHECKS + 1)); echo "ok   - $*"; }
not_ok() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

# --- what the rig needs ------------------------------------------------------------------------
# A skip (77) means exactly one thing: QEMU itself cannot run here. Anything else the rig needs
# and does not get (a package, the kernel, the static build, a guest that boots) is a failure.
fail() { echo "FAIL: $*"; exit 1; }
missing=""
for p in qemu-system-x86 busybox-static cpio; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || fail "missing packages:$missing (not root, cannot install; run tools/deps.sh --test)"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
		>"$T_DIR/apt.log" 2>&1 ||
		apt_err="apt-get install$missing failed: $(tail -1 "$T_DIR/apt.log")"
fi
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 is not installed (package qemu-system-x86; tools/deps.sh --test)${apt_err:+; $apt_err}"
[ -z "${apt_err:-}" ] || fail "$apt_err"
for c in busybox cpio; do command -v "$c" >/dev/null || fail "$c not found after installing$missing"; done
[ -x /bin/busybox ] || fail "/bin/busybox (busybox-static) not found"
# Can QEMU start a q35 machine under TCG here at all? Create it stopped and quit through QMP.
printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
	timeout 60 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 1G -nodefaults \
	-display none -S -qmp stdio >"$T_DIR/probe.log" 2>&1 ||
	skip "qemu-system-x86_64 cannot start a q35 machine under TCG (exit $?):" \
		"$(grep -v '^{' "$T_DIR/probe.log" | head -3 | tr '\n' ' ')"

# The Debian cloud kernel, unpacked once into WORK (no install into /boot).
kernel_tree() {
	local pkg deb
	KDIR=$(ls -d "$WORK"/kernel/lib/modules/* 2>/dev/null | head -1)
	[ -n "$KDIR" ] && return 0
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	      awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || fail "apt-cache knows no kernel for linux-image-cloud-amd64 (apt-get update?)"
	mkdir -p "$WORK/deb"
	(cd "$WORK/deb" && apt-get download "$pkg") >"$T_DIR/download.log" 2>&1 ||
		fail "apt-get download $pkg failed: $(tail -2 "$T_DIR/download.log" | tr '\n' ' ')"
	deb=$(ls "$WORK"/deb/"$pkg"_*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || fail "apt-get download $pkg left no .deb in $WORK/deb"
	rm -rf "$WORK/kernel"
	dpkg-deb -x "$deb" "$WORK/kernel" || fail "dpkg-deb -x $deb failed"
	KDIR=$(ls -d "$WORK"/kernel/lib/modules/* 2>/dev/null | head -1)
	[ -n "$KDIR" ] || fail "$deb holds no lib/modules"
}
kernel_tree
KVER=$(basename "$KDIR")
VMLINUZ="$WORK/kernel/boot/vmlinuz-$KVER"
[ -f "$VMLINUZ" ] || fail "no $VMLINUZ in the unpacked kernel package"

# A static fwpush with the dpdk: transport, built beside the test's own build.
echo "# building a static fwpush in $WORK/static"
if [ ! -f "$WORK/static/build.ninja" ]; then
	meson setup "$WORK/static" "$SRC" -Dprefer_static=true -Ddefault_library=static \
		-Dc_link_args=-static -Dcurl=disabled -Ddpdk=enabled -Dbuildtype=release \
		>"$T_DIR/setup.log" 2>&1 || { cat "$T_DIR/setup.log"; exit 1; }
fi
meson compile -C "$WORK/static" fwpush:executable >"$T_DIR/build.log" 2>&1 ||
	{ tail -30 "$T_DIR/build.log"; exit 1; }
FWPUSH="$WORK/static/fwpush"

# --- the BMCs: one bmc-sim per device, each window a power-of-two file in /dev/shm -----------
for i in 0 1 2 3; do
	d=${DEVS[$i]}
	head -c "${SIZE[$i]}" /dev/urandom >"$T_DIR/img-$d"
	doorbell=()
	[ "$d" = d ] && doorbell=(--ivshmem "$IVS")
	at=""
	[ "${WOFF[$i]}" -ne 0 ] && at=",offset=${WOFF[$i]}"
	"$FWPUSH" bmc-sim --window "shm:$NAME-$d$at" --flash "$T_DIR/flash-$d" --slots 4 \
		--slot-size 256K "${doorbell[@]}" 2>"$T_DIR/bmc-$d.log" &
	PIDS+=($!)
done
for i in 0 1 2 3; do
	for _ in $(seq 100); do [ -s "/dev/shm/$NAME-${DEVS[$i]}" ] && break; sleep 0.05; done
	[ -s "/dev/shm/$NAME-${DEVS[$i]}" ] || { echo "bmc-sim ${DEVS[$i]} did not start"; exit 1; }
done
[ -S "$IVS" ] || { echo "bmc-sim d serves no ivshmem socket: $(cat "$T_DIR/bmc-d.log")"; exit 1; }
# Each window is where it was put, with only zeros before it: the first 4096-aligned offset with
# the window's magic and a nonzero epoch and version (what a searching host finds) is WOFF.
first_window() { # first_window FILE: PROTOCOL.md 1.3's search, done here
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
for off in range(0, len(d) - 63, 4096):
    magic, version = struct.unpack_from("<QH", d, off)
    if magic == 0x3157485355505746 and version and struct.unpack_from("<I", d, off + 48)[0]:
        print(off, "zeros-before" if not any(d[:off]) else "junk-before")
        break
PY
}
for i in 0 1 2 3; do
	d=${DEVS[$i]}
	w=$(first_window "/dev/shm/$NAME-$d")
	check "${VIA[$i]}: bmc-sim put its window ${WOFF[$i]} bytes into the BAR's file ($w)" \
		[ "$w" = "${WOFF[$i]} zeros-before" ]
done

# --- the initramfs -----------------------------------------------------------------------------
ROOT="$T_DIR/root"
mkdir -p "$ROOT/bin" "$ROOT/lib/modules"
cp /bin/busybox "$ROOT/bin/busybox"
cp "$FWPUSH" "$ROOT/bin/fwpush"
for d in "${DEVS[@]}"; do cp "$T_DIR/img-$d" "$ROOT/img-$d"; done
# vfio-pci and what it needs, dependencies first (read from each module's .modinfo: the package
# ships no modules.dep, which depmod would write at install).
modules=""
add_module() { # add_module NAME
	local f dep
	f=$(find "$KDIR/kernel" -name "$1.ko*" -o -name "$(echo "$1" | tr _ -).ko*" | head -1)
	[ -n "$f" ] || { echo "module $1 not in $KVER"; exit 1; }
	case " $modules " in *" /lib/modules/${f#"$KDIR"/} "*) return 0 ;; esac
	for dep in $(grep -a -o 'depends=[a-z0-9_,-]*' "$f" | head -1 | cut -d= -f2 | tr , ' '); do
		add_module "$dep"
	done
	mkdir -p "$ROOT/lib/modules/$(dirname "${f#"$KDIR"/}")"
	cp "$f" "$ROOT/lib/modules/${f#"$KDIR"/}"
	modules="$modules /lib/modules/${f#"$KDIR"/}"
}
add_module vfio-pci
add_module vfio_iommu_type1	# asked for by name when a container picks its IOMMU
echo "# guest modules:$modules"
cat >"$ROOT/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp /var/run
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp; mkdir -p /dev/shm; mount -t tmpfs shm /dev/shm
for m in $modules; do case \$m in *.xz) xz -dc \$m >/tmp/m.ko && insmod /tmp/m.ko;; *) insmod \$m;; esac || echo "GUEST insmod failed: \$m"; done
result() { name=\$1; shift; "\$@" >/tmp/out 2>&1; rc=\$?; echo "RESULT \$name \$rc \$(tr '\n' ' ' </tmp/out)"; }
bind() { echo vfio-pci >/sys/bus/pci/devices/\$1/driver_override; echo \$1 >/sys/bus/pci/drivers_probe; }
echo "GUEST up: \$(uname -r), \$(ls /sys/kernel/iommu_groups | wc -l) IOMMU groups"
result list fwpush list
result unbound fwpush push /img-b --target vfio:0000:00:11.0,bar=2 --timeout 10s
result wrong-offset fwpush push /img-a --target pci:0000:00:10.0,bar=2,offset=4K --timeout 2s
result pci fwpush push /img-a --target pci:0000:00:10.0,bar=2 --timeout 60s --json
bind 0000:00:11.0; bind 0000:00:12.0
result list-bound fwpush list --json
result vfio fwpush push /img-b --target vfio:0000:00:11.0,bar=2 --timeout 60s --json
result dpdk fwpush push /img-c --target dpdk:0000:00:12.0,bar=2 --timeout 60s --json
bind 0000:00:13.0
result irq fwpush push /img-d --target vfio:0000:00:13.0,bar=2 --timeout 60s --json
echo "GUEST done"
poweroff -f
INIT
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) >"$T_DIR/initrd"

# --- boot --------------------------------------------------------------------------------------
qemu_args=(-machine q35 -accel tcg -cpu max -smp 1 -m 1G -nodefaults -display none -no-reboot
	-serial stdio -device intel-iommu,intremap=on
	-kernel "$VMLINUZ" -initrd "$T_DIR/initrd"
	-append "console=ttyS0 intel_iommu=on quiet loglevel=3 panic=-1")
for i in 0 1 2; do
	d=${DEVS[$i]}
	qemu_args+=(-object "memory-backend-file,id=m$d,share=on,mem-path=/dev/shm/$NAME-$d,size=$(stat -c %s "/dev/shm/$NAME-$d")"
		-device "ivshmem-plain,memdev=m$d,bus=pcie.0,addr=0x${ADDR[$i]}")
done
qemu_args+=(-chardev "socket,id=ivsd,path=$IVS"
	-device "ivshmem-doorbell,chardev=ivsd,vectors=1,bus=pcie.0,addr=0x13")
echo "# booting $KVER under TCG"
start=$EPOCHREALTIME
timeout 300 qemu-system-x86_64 "${qemu_args[@]}" </dev/null >"$T_DIR/console" 2>&1
rc=$?
secs=$(python3 -c "print(f'{$EPOCHREALTIME - $start:.1f}')")
sed 's/^/# guest: /' "$T_DIR/console" | tr -d '\r' | grep -v '^# guest: *$'
# QEMU ran (the probe above proved it can): whatever happened in the guest is a verdict.
[ "$rc" -eq 124 ] && rc="124: still running after 300 s, killed"
check "QEMU booted the guest and powered off (exit $rc, $secs s)" [ "$rc" = 0 ]
check "the guest came up" grep -q "GUEST up" "$T_DIR/console"
check "the guest loaded every module ($(grep -c 'GUEST insmod failed' "$T_DIR/console") failed)" \
	bash -c 'grep -q "GUEST up" "$1" && ! grep -q "GUEST insmod failed" "$1"' _ "$T_DIR/console"
check "the guest ran to the end" grep -q "GUEST done" "$T_DIR/console"

# --- verdicts ----------------------------------------------------------------------------------
result() { tr -d '\r' <"$T_DIR/console" | sed -n "s/^RESULT $1 //p" | head -1; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2" 2>/dev/null; }
r=$(result list)
check "fwpush list shows the four ivshmem devices (1af4:1110)" \
	[ "$(echo "$r" | grep -o '1af4:1110' | wc -l)" -eq 4 ]
r=$(result list-bound)
check "fwpush list --json: bound devices offer vfio: targets" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1].split(" ",1)[1]); assert sum(x["target"].startswith("vfio:") for x in d) == 2' "$r"
r=$(result unbound)
check "not bound to vfio-pci: exit 4 and how to bind it ($r)" \
	bash -c '[[ "$1" == "4 "*"not bound to vfio-pci; bind it"* ]]' _ "$r"
# offset=4K, zeros there, the window at 64K: no window is seen, the push gives up at its timeout.
r=$(result wrong-offset)
check "pci: a wrong offset= (4K; the window at 64K): exit 5 and one line ($r)" \
	bash -c '[[ "$1" == "5 fwpush: target pci:0000:00:10.0,bar=2,offset=4K: no BMC answered"* ]]' _ "$r"
for i in 0 1 2 3; do
	d=${DEVS[$i]} via=${VIA[$i]}
	r=$(result "$via")
	json=${r#* }
	check "$via: the guest's push exited 0 (${r%% *})" [ "${r%% *}" = 0 ]
	check "$via: the BMC's flash equals the image byte for byte" cmp -s "$T_DIR/img-$d" "$T_DIR/flash-$d"
	h=$(xxhsum -H2 "$T_DIR/img-$d" | cut -d' ' -f1)
	check "$via: the hash the BMC verified is the image's XXH3-128 ($h)" \
		[ "$(field "$json" xxh128)" = "${h:-no xxhsum}" ]
	echo "# $via: $(field "$json" bytes) bytes at $(field "$json" gbps) GB/s through the guest (TCG)"
	echo "$via $(field "$json" bytes) $(field "$json" gbps)" >>"$T_DIR/rates"
done
# The doorbell device: the guest slept on MSI-X, and woke for the BMC's answers.
r=$(result irq)
check "irq: the guest's push waited on the device's interrupt ($(field "${r#* }" interrupts) times)" \
	[ "$(field "${r#* }" interrupts)" -gt 0 ]
# What the polling BMC (a) and the sleeping one (d) cost over the whole run (schedstat: ns on a
# CPU, timeslices): both served one push; d sleeps on its doorbell the rest of the time.
for i in 0 3; do
	read -r ns _ runs <"/proc/${PIDS[$i]}/schedstat"
	echo "# bmc-sim ${DEVS[$i]} (${VIA[$i]}): $((ns / 1000000)) ms CPU, $runs runs in $secs s"
done
# The BMCs log one line per session: each activated exactly the image the guest pushed.
for p in "${PIDS[@]}"; do kill -TERM "$p"; wait "$p"; done
PIDS=()
for i in 0 1 2 3; do
	h=$(xxhsum -H2 "$T_DIR/img-${DEVS[$i]}" | cut -d' ' -f1)
	log="$T_DIR/bmc-${DEVS[$i]}.log"
	check "${VIA[$i]}: bmc-sim logged exactly one session, which stored this image" \
		[ "$(grep -c "stored ${SIZE[$i]} bytes .*XXH3-128 ${h:-no xxhsum}" "$log")/$(wc -l <"$log")" = 1/1 ]
done
[ -n "${FWP_VM_REPORT:-}" ] && [ -f "$T_DIR/rates" ] && cp "$T_DIR/rates" "$FWP_VM_REPORT"
echo "# $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
