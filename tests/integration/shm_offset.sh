#!/usr/bin/env bash
# bmc-sim's shm:NAME,offset=O: the window O bytes into its object, zeros before it, the object
# sized for both (a power of two, like a BAR); a host told offset=O goes there, a host told
# nothing searches the object as it searches a BAR (PROTOCOL.md 1.3), a host told a wrong
# offset gives up at its timeout; a bad offset is refused with one line, by BMC and host alike.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $(((3 << 20) + 12345))

# layout FILE: "OFFSET SIZE WINDOW_SIZE ZEROS" of the first published window a host searching
# the file finds (4096-aligned, the magic, a nonzero version and epoch), ZEROS 1 when every
# byte before it is 0; nothing if there is none.
layout() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
for off in range(0, len(d) - 63, 4096):
    magic, version = struct.unpack_from("<QH", d, off)
    (window_size,) = struct.unpack_from("<Q", d, off + 32)
    (epoch,) = struct.unpack_from("<I", d, off + 48)
    if magic == 0x3157485355505746 and version and epoch:
        print(off, len(d), window_size, int(not any(d[:off])))
        break
PY
}
# wait_window FILE: until a BMC has published a window in it (5 s at most).
wait_window() {
	local _
	for _ in $(seq 100); do [ -n "$(layout "$1" 2>/dev/null)" ] && return 0; sleep 0.05; done
	return 1
}
# pow2_above N: the smallest power of two >= N.
pow2_above() { local p=4096; while [ "$p" -lt "$1" ]; do p=$((p * 2)); done; echo "$p"; }

# --- a window 64 KiB in ------------------------------------------------------------------------
obj="/dev/shm/$T_NAME-o"
start_bmc "o,offset=64K" "$flash" --slots 4 --slot-size 64K
check "bmc-sim --window shm:NAME,offset=64K published its window" wait_window "$obj"
read -r off size wsize zeros <<<"$(layout "$obj")"
check "the window a search finds is at 65536 (at ${off:-none})" [ "${off:-x}" = 65536 ]
check "every byte before it is 0" [ "${zeros:-0}" = 1 ]
check "the object is the power of two at or above 64K + the window ($size >= 65536 + $wsize)" \
	[ "${size:-0}" = "$(pow2_above $((65536 + ${wsize:-0})))" ]
check "push -t shm:NAME (no offset=): the host searches and finds it" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-o" -q --timeout 3s
check "... and the flash equals the image" cmp -s "$img" "$flash"
make_image "$img" $((1 << 20))
check "push -t shm:NAME,offset=64K: told where" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-o,offset=64K" -q --timeout 3s
check "... and the flash equals the image" cmp -s "$img" "$flash"
expect_fail "push -t shm:NAME,offset=4K (zeros there): no window, given up at the timeout" 5 \
	"offset=4K: no BMC answered within 1.0 s" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-o,offset=4K" --timeout 1s
expect_fail "push -t shm:NAME,offset=60M: past the object" 4 "does not fit in what is mapped" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-o,offset=60M" --timeout 1s
expect_fail "push -t shm:NAME,offset=100: not a multiple of 4096" 4 "malformed" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-o,offset=100"
stop_bmc
check "bmc-sim stopped removed its window" [ ! -e "$obj" ]

# --- offset=0 is the window at 0, as without it; the ivshmem server takes an offset too -------
start_bmc "z,offset=0" "$flash" --slots 2 --slot-size 64K
check "shm:NAME,offset=0: the window at 0" wait_window "/dev/shm/$T_NAME-z"
check "... found there ($(layout "/dev/shm/$T_NAME-z"))" \
	[ "$(layout "/dev/shm/$T_NAME-z" | cut -d' ' -f1)" = 0 ]
check "... push -t shm:NAME" "$FWPUSH" push "$img" --target "shm:$T_NAME-z" -q --timeout 3s
stop_bmc
"$FWPUSH" bmc-sim --window "shm:$T_NAME-i,offset=8K" --ivshmem "$T_DIR/ivs.sock" \
	--flash "$flash" --slots 2 --slot-size 64K --quiet 2>"$T_DIR/bmc.err" &
BMC_PID=$!
check "--ivshmem with shm:NAME,offset=8K: the window at 8192" wait_window "/dev/shm/$T_NAME-i"
check "... found there ($(layout "/dev/shm/$T_NAME-i"))" \
	[ "$(layout "/dev/shm/$T_NAME-i" | cut -d' ' -f1)" = 8192 ]
check "... the ivshmem server listens" [ -S "$T_DIR/ivs.sock" ]
check "... push -t shm:NAME finds it" "$FWPUSH" push "$img" --target "shm:$T_NAME-i" -q --timeout 3s
check "... and the flash equals the image" cmp -s "$img" "$flash"
stop_bmc

# --- what is no window stays no window: a search that finds nothing changes no error ----------
head -c $((1 << 20)) /dev/urandom >"/dev/shm/$T_NAME-junk"
expect_fail "push -t shm:NAME on 1 MiB of random bytes: not an fwpush window" 4 "bad magic" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-junk" --timeout 1s
rm -f "/dev/shm/$T_NAME-junk"

# --- bad offsets: refused by bmc-sim with one line, exit 4 as for any malformed window -------
# (timeout: a bmc-sim that took one would serve until killed.)
for bad in 100 128M "" x 64K,bogus=1 -4096; do
	expect_fail "bmc-sim --window shm:NAME,offset=$bad: refused" 4 "malformed" \
		timeout 5 "$FWPUSH" bmc-sim --window "shm:$T_NAME-bad,offset=$bad" --flash "$flash" \
		--quiet
done
check "no window was left behind by a refused bmc-sim" [ ! -e "/dev/shm/$T_NAME-bad" ]
expect_fail "bmc-sim --ivshmem with shm:NAME,ivshmem=: refused" 2 "without ,ivshmem=" \
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-bad,ivshmem=x" --ivshmem "$T_DIR/y.sock" \
	--flash "$flash" --quiet

done_testing
