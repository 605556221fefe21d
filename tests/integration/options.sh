#!/usr/bin/env bash
# Options that change how a push is read, labelled or paced, each shown to take effect:
# --direct reads around the page cache, --component reaches the BMC, every key of the NOR
# model changes the part's time, buffer= holds the host back, SIGINT stops bmc-sim cleanly.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $((4 << 20))
start_bmc opt "$flash" --slots 4 --slot-size 64K

# --direct: the image is read with O_DIRECT, so none of it is in the page cache afterwards.
sync "$img"
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$img"
cached() { fincore --bytes --noheadings --output RES "$img" | tr -d ' '; }
check "--direct: image evicted from the page cache first ($(cached) bytes cached)" [ "$(cached)" -eq 0 ]
check "--direct: push succeeds" "$FWPUSH" push "$img" --target "$WINDOW" --direct -q
check "--direct: flash equals the image" cmp -s "$img" "$flash"
# cmp above read the flash, not the image: the image must still be out of the cache... but
# cmp read it too. Evict again and push once more, then look before anything else reads it.
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$img"
"$FWPUSH" push "$img" --target "$WINDOW" --direct -q
check "--direct: the push left none of the image in the page cache ($(cached) bytes)" \
	[ "$(cached)" -eq 0 ]
"$FWPUSH" push "$img" --target "$WINDOW" -q
check "without --direct the same push fills the cache ($(cached) bytes): the check can fail" \
	[ "$(cached)" -gt 0 ]
expect_fail "--direct needs 4K-multiple chunks" 2 "not 4K multiples" \
	"$FWPUSH" push "$img" --target "$WINDOW" --direct --chunk-size 6000

# --component: the BMC stores and logs the component the host names.
stop_bmc
"$FWPUSH" bmc-sim --window "shm:$T_NAME-comp" --flash "$flash" --slots 2 --slot-size 64K \
	2>"$T_DIR/bmc.log" &
BMC_PID=$!
check "--component 7: push succeeds" "$FWPUSH" push "$img" --target "shm:$T_NAME-comp" \
	--component 7 -q --timeout 5
check "--component 7: the BMC stored component 7" grep -q "(component 7)" "$T_DIR/bmc.log"

# SIGINT stops bmc-sim like SIGTERM: exit 0, window removed.
kill -INT "$BMC_PID"
wait "$BMC_PID"; rc=$?
BMC_PID=
check "SIGINT: bmc-sim exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "SIGINT: its window is removed" [ ! -e "/dev/shm/$T_NAME-comp" ]

# nor_push SPEC SIZE: sets s to the seconds a push of SIZE random bytes takes through
# --flash-model SPEC (empty if it failed or the flash differs).
nor_push() {
	stop_bmc
	make_image "$T_DIR/nor" "$2"
	start_bmc "nor$RANDOM" "$flash" --slots 4 --slot-size 64K --flash-model "$1"
	s=
	"$FWPUSH" push "$T_DIR/nor" --target "$WINDOW" --json --timeout 5 >"$T_DIR/out" &&
		cmp -s "$T_DIR/nor" "$flash" &&
		s=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$T_DIR/out")
}
# within SECS LOW HIGH: LOW <= SECS < HIGH.
within() { python3 -c 'import sys; s, lo, hi = map(float, sys.argv[1:]); sys.exit(not lo <= s < hi)' "$@"; }

# Each key alone decides the time: were it ignored, its default would land outside the
# bounds, which are set halfway or more to that default, for a loaded machine.
# erase=4K: 64 sectors x 10 ms = 0.64 s (the default 64K sectors would take 0.04 s).
nor_push nor:erase=4K,erase-ms=10,program-mbps=1000 $((256 << 10))
check "nor erase=4K,erase-ms=10: 0.64 s of erase (took ${s:-failed} s)" within "${s:-0}" 0.64 2.0
# erase-ms=5: 16 sectors x 5 ms = 0.08 s (the default 160 ms would take 2.56 s).
nor_push nor:erase-ms=5,program-mbps=1000 $((1 << 20))
check "nor erase-ms=5: 0.08 s of erase (took ${s:-failed} s)" within "${s:-0}" 0.08 1.0
# program-mbps=1: 512 KiB at 1 MB/s = 0.52 s (the default 2 MB/s would take 0.26 s).
nor_push nor:erase-ms=1,program-mbps=1 $((512 << 10))
check "nor program-mbps=1: 0.53 s of programming (took ${s:-failed} s)" within "${s:-0}" 0.53 2.0
# scale=0.1 on the default part: 16 x 160 ms + 1 MiB at 2 MB/s = 3.08 s, x 0.1 = 0.31 s.
nor_push nor:scale=0.1 $((1 << 20))
check "nor scale=0.1: 0.31 s (took ${s:-failed} s)" within "${s:-0}" 0.31 1.5

# buffer=: how far the BMC runs ahead of the part. With 128K (the least it takes with 64K
# slots and sectors) the host is held back: before it rings the chunk at 1 MiB it reuses the
# slot of the chunk at 768K, whose answer waits until the part is within 128K of its end
# (832K): 11 sectors x 50 ms = 0.55 s. With the default 8M buffer it gets there at once.
held_back() { # held_back SPEC: sets ms until the host is killed before ringing offset 1 MiB
	stop_bmc
	make_image "$T_DIR/nor" $((2 << 20))
	start_bmc "buf$RANDOM" "$flash" --slots 4 --slot-size 64K --flash-model "$1"
	local t0; t0=$(date +%s%N)
	"$FWPUSH" push "$T_DIR/nor" --target "$WINDOW" --timeout 5 -q --inject kill:1M
	ms=$((($(date +%s%N) - t0) / 1000000))
}
held_back nor:erase-ms=50,program-mbps=1000,buffer=128K
check "nor buffer=128K: the host is held back ($ms ms, at least 550)" [ "$ms" -ge 550 ]
held_back nor:erase-ms=50,program-mbps=1000
check "nor default buffer 8M: the host runs ahead ($ms ms, under 400)" [ "$ms" -lt 400 ]
done_testing
