#!/usr/bin/env bash
# The BMC's flash on a full filesystem: a tmpfs too small for the image (refused at START, and
# part way through when the room runs out under a later step), and one out of inodes. Every
# time the host hears status 9 (exit 6, "flash write failed"), never a timeout; the BMC lives
# on; the active image, the record (PATH.meta) and PATH are unchanged byte for byte, and the
# abandoned bank holds no blocks; after a bmc-sim restart the record and PATH still agree on
# the old image; and once the filesystem has room, the next push goes in.
. "$(dirname "$0")/../integration/lib.sh"

mnt="$T_DIR/mnt"
mkdir "$mnt"
if ! why=$(mount -t tmpfs -o size=24M,nr_inodes=64 fwpush-test "$mnt" 2>&1); then
	echo "SKIP: cannot mount a tmpfs at $mnt (mount: $why): needs root or CAP_SYS_ADMIN"
	exit 77
fi
trap 'stop_bmc; umount -l "$mnt" 2>/dev/null; t_cleanup' EXIT
flash="$mnt/flash"

# record FLASH: the bank the record in force names (a.k.a. b), read the way flash.c does:
# two copies, one per 4 KiB sector, the valid one with the higher sequence wins (its checksum
# is not recomputed here: unit-flash proves that part).
record() {
	python3 - "$1.meta" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
best = None
for off in (0, 4096):
    if len(data) >= off + 40:
        magic, seq, bank, res, size, check = struct.unpack_from("<QQIIQQ", data, off)
        if magic == 0x3141544D50575046 and seq and bank < 2 and (best is None or seq > best[0]):
            best = (seq, bank)
print("none" if best is None else "ab"[best[1]])
EOF
}

# agrees FLASH: PATH links to the bank the record names.
agrees() {
	local rec link
	rec=$(record "$1") link=$(readlink "$1")
	[ "$link" = "$(basename "$1").$rec" ] || { echo "       record names .$rec, PATH -> $link"; return 1; }
}

# snapshot / same_as_snapshot: PATH's target, the active image and the record, byte for byte.
snapshot() {
	readlink "$flash" >"$T_DIR/link.0"
	cp "$flash" "$T_DIR/active.0"
	cp "$flash.meta" "$T_DIR/meta.0"
}
same_as_snapshot() {
	[ "$(readlink "$flash")" = "$(cat "$T_DIR/link.0")" ] && cmp -s "$flash" "$T_DIR/active.0" &&
		cmp -s "$flash.meta" "$T_DIR/meta.0"
}
blocks() { stat -c %b "$1" 2>/dev/null || echo 0; }
bmc_alive() { kill -0 "$BMC_PID" 2>/dev/null; }
# serving: bmc-sim has opened its flash and published its window (or died trying).
serving() {
	local i
	for i in $(seq 100); do
		[ -e "/dev/shm/${WINDOW#shm:}" ] && return 0
		bmc_alive || return 1
		sleep 0.05
	done
	return 1
}

make_image "$T_DIR/v1" $((4 << 20))
make_image "$T_DIR/v16" $((16 << 20))
make_image "$T_DIR/v32" $((32 << 20))

# --- By size: 24 MiB, 4 MiB active, 12 MiB of someone else's file: 8 MiB free. ---
start_bmc size "$flash" --slots 4 --slot-size 256K
check "by size: the first image goes in" "$FWPUSH" push "$T_DIR/v1" --target "$WINDOW" -q
snapshot
head -c $((12 << 20)) /dev/zero >"$mnt/ballast"
expect_fail "by size: a 16 MiB image with 8 MiB free is refused at START" 6 \
	"BMC refused START_UPGRADE: flash write failed (status 9)" \
	"$FWPUSH" push "$T_DIR/v16" --target "$WINDOW" --timeout 2s
check "by size: bmc-sim is alive (no SIGBUS)" bmc_alive
check "by size: PATH, the active image and the record unchanged byte for byte" same_as_snapshot
inactive=$(inactive_bank "$flash")
check "by size: the abandoned bank holds no blocks ($(blocks "$inactive"))" \
	[ "$(blocks "$inactive")" -eq 0 ]
rm "$mnt/ballast"
# 20 MiB free: the first 16 MiB step fits, the room runs out under the next one.
expect_fail "by size: a 32 MiB image runs out of room part way: refused at a DATA" 6 \
	"BMC refused DATA at offset [0-9]*: flash write failed (status 9)" \
	"$FWPUSH" push "$T_DIR/v32" --target "$WINDOW" --timeout 2s
check "by size, part way: bmc-sim is alive (no SIGBUS)" bmc_alive
check "by size, part way: PATH, the active image and the record unchanged" same_as_snapshot
check "by size, part way: the abandoned bank holds no blocks ($(blocks "$inactive"))" \
	[ "$(blocks "$inactive")" -eq 0 ]
stop_bmc
start_bmc size2 "$flash" --slots 4 --slot-size 256K
check "by size, after a restart: bmc-sim serves" serving
check "by size, after a restart: the record and PATH agree" agrees "$flash"
check "by size, after a restart: PATH, the active image and the record unchanged" \
	same_as_snapshot
mount -o remount,size=64M "$mnt"
check "by size: with room, the next push goes in" \
	"$FWPUSH" push "$T_DIR/v32" --target "$WINDOW" -q --timeout 5s
check "by size: ... and is the active image" cmp -s "$T_DIR/v32" "$flash"
check "by size: ... and the record agrees" agrees "$flash"
stop_bmc
umount "$mnt"

# --- By inodes: 5 (the root, the record, bank a, PATH; bank b takes the last). ---
mount -t tmpfs -o size=64M,nr_inodes=5 fwpush-test "$mnt"
start_bmc inodes "$flash" --slots 4 --slot-size 256K
check "by inodes: the first image goes in" "$FWPUSH" push "$T_DIR/v1" --target "$WINDOW" -q
snapshot
expect_fail "by inodes: the next image is refused with status 9" 6 \
	"BMC refused .*: flash write failed (status 9)" \
	"$FWPUSH" push "$T_DIR/v16" --target "$WINDOW" --timeout 2s
check "by inodes: bmc-sim is alive" bmc_alive
check "by inodes: PATH, the active image and the record unchanged byte for byte" same_as_snapshot
check "by inodes: the record and PATH agree" agrees "$flash"
stop_bmc
# A restart with no inode to spare: PATH already agrees with the record, nothing is re-made.
start_bmc inodes1 "$flash" --slots 4 --slot-size 256K
check "by inodes, restarted on the full filesystem: bmc-sim serves" serving
check "by inodes, restarted on the full filesystem: PATH, image and record unchanged" \
	same_as_snapshot
stop_bmc
# A restart with inodes to spare (a restart may re-make PATH from the record): still the old.
mount -o remount,nr_inodes=64 "$mnt"
start_bmc inodes2 "$flash" --slots 4 --slot-size 256K
check "by inodes, after a restart: bmc-sim serves" serving
check "by inodes, after a restart: the record and PATH agree" agrees "$flash"
check "by inodes, after a restart: PATH is the old image, byte for byte" same_as_snapshot
check "by inodes: with inodes to spare, the next push goes in" \
	"$FWPUSH" push "$T_DIR/v16" --target "$WINDOW" -q --timeout 5s
check "by inodes: ... and is the active image" cmp -s "$T_DIR/v16" "$flash"
check "by inodes: ... and the record agrees" agrees "$flash"
stop_bmc
umount "$mnt"
done_testing
