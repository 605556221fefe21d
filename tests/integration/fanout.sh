#!/usr/bin/env bash
# A mass-flash station: one image to eight BMCs at once. One stalls (SIGSTOP), one is killed
# mid-push, one refuses (it wants a signature): the other five get the image byte for byte, the
# three are reported with their reasons, the exit code is 11 (some failed), and the five finish
# while the stalled one is still being waited for. Also: --targets FILE, --jobs, the JSON Lines
# events, the image read once.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR" || exit 1
PIDS=()
trap 'kill -CONT "${PIDS[@]}" 2>/dev/null; kill -9 "${PIDS[@]}" 2>/dev/null; t_cleanup' EXIT
sim() { # sim N [bmc-sim options]: bmc-sim on window $T_NAME-N, flash fN
	local n=$1; shift
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-$n" --flash "f$n" --slots 4 --slot-size 64K \
		--quiet "$@" 2>"bmc$n.err" &
	PIDS[$n]=$!
}
wait_windows() {
	local n
	for n in "$@"; do
		for _ in $(seq 100); do [ -e "/dev/shm/$T_NAME-$n" ] && break; sleep 0.05; done
	done
	sleep 0.2
}

make_image img $(((6 << 20) + 4097))
"$FWPUSH" keygen --out key >/dev/null
for n in 1 2 3 4 5 6; do sim $n; done
sim 7 --pubkey key.pub				# refuses an unsigned image
sim 8 --flash-model nor:scale=4			# slow: killed while it programs
wait_windows 1 2 3 4 5 6 7 8
kill -STOP "${PIDS[6]}"				# stalled: formatted, then nothing
args=()
for n in 1 2 3 4 5 6 7 8; do args+=(--target "shm:$T_NAME-$n"); done
"$FWPUSH" push img "${args[@]}" --timeout 4s --progress jsonl >events 2>err &
push=$!
sleep 1
kill -9 "${PIDS[8]}"
wait "$push"
rc=$?
check "exit 11: some targets failed (got $rc)" [ "$rc" = 11 ]
for n in 1 2 3 4 5; do
	check "target $n: its flash equals the image" cmp -s img "f$n"
done
check "the five: a done event each, verified" \
	[ "$(grep -c '"event":"done".*"verified":true' events)" = 5 ]
check "a start event for each target whose BMC answered START (all but the stalled one)" \
	[ "$(grep -c '"event":"start"' events)" = 7 ]
check "a verify event for each of the five at least" \
	[ "$(grep -c '"event":"verify"' events)" -ge 5 ]
check "the stalled one: failed, no progress (exit 5)" \
	grep -q "\"event\":\"failed\".*$T_NAME-6\",\"code\":5,.*made no progress" events
check "the refusing one: failed, the BMC's status named (exit 6)" \
	grep -q "\"event\":\"failed\".*$T_NAME-7\",\"code\":6,.*not signed" events
check "the killed one: failed, and says which target" \
	grep -q "\"event\":\"failed\".*$T_NAME-8\",\"code\":[45]," events
check "the summary lists exactly the three" \
	grep -q "\"failed\":\\[\"shm:$T_NAME-6\",\"shm:$T_NAME-7\",\"shm:$T_NAME-8\"\\]" events
last_done=$(grep '"event":"done"' events | sed 's/.*"t":\([0-9.]*\).*/\1/' | sort -n | tail -1)
stalled=$(grep "\"event\":\"failed\".*$T_NAME-6\"" events | sed 's/.*"t":\([0-9.]*\).*/\1/')
check "the five finished before the stalled one gave up ($last_done s < $stalled s)" \
	awk -v a="$last_done" -v b="$stalled" 'BEGIN { exit !(a < b) }'
check "every event is one JSON object" python3 -c '
import json, sys
for line in open("events"):
    json.loads(line)'
check "nothing on stderr in jsonl mode" [ ! -s err ]
kill -CONT "${PIDS[6]}"

# Five that work, named in a file, at most two at a time: the image is read once.
printf '# the rack\nshm:%s-1\n\n  shm:%s-2   # second\nshm:%s-3\nshm:%s-4\nshm:%s-5\n' \
	"$T_NAME" "$T_NAME" "$T_NAME" "$T_NAME" "$T_NAME" >rack
make_image img2 $(((3 << 20) + 1))
"$FWPUSH" push img2 --targets rack --jobs 2 --chunk-size 40000 >out 2>err
rc=$?
check "--targets FILE --jobs 2, chunks across the cache's blocks: exit 0 (got $rc)" [ "$rc" = 0 ]
for n in 1 2 3 4 5; do
	check "target $n: the second image too" cmp -s img2 "f$n"
done
check "a result line per target and the summary" \
	[ "$(grep -c '^pushed img2 to shm:' out)" = 5 ] && grep -q "to 5 of 5 targets" out
"$FWPUSH" push img --targets rack --progress jsonl >events2 2>&1
check "all at once: the image's bytes were read once" \
	grep -q "\"bytes\":$(stat -c %s img),\"bytes_read\":$(stat -c %s img)," events2
check "and each chunk hashed once, for all five" \
	grep -q "\"bytes_hashed\":$(stat -c %s img)," events2
check "all five verified with one hash for all" \
	[ "$(grep -c '"event":"done".*"verified":true' events2)" = 5 ]
expect_fail "a target named twice" 2 "named twice" \
	"$FWPUSH" push img --target "shm:$T_NAME-1" --targets rack
printf '# nothing\n' >empty
expect_fail "--targets with no target" 2 "no target in it" "$FWPUSH" push img --targets empty
expect_fail "--targets missing" 2 "--targets nope" "$FWPUSH" push img --targets nope
expect_fail "--progress nonsense" 2 "--progress x" "$FWPUSH" push img -t shm:a --progress x
done_testing
