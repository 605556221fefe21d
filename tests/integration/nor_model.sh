#!/usr/bin/env bash
# The NOR flash model: FINISH is acknowledged only after the part's own erase + program time,
# the host does not time out while the part works (heartbeat), and the image is whole.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $((4 << 20))
# 64 sectors x 160 ms + 4 MiB at 2 MB/s = 12.34 s of part time; x0.15 = 1.851 s: longer than
# the host's 1 s timeout, so only the heartbeat keeps the push alive (a 300 ms timeout against a
# 0.617 s part flaked on the loaded 2-core CI machine: one slow sync was longer than it).
start_bmc nor "$flash" --slots 4 --slot-size 64K --flash-model nor:scale=0.15
"$FWPUSH" push "$img" --target "$WINDOW" --json --timeout 1s >"$T_DIR/out"; rc=$?
check "push through the NOR model succeeds with a 1 s timeout (exit $rc)" [ "$rc" -eq 0 ]
check "flash equals the image" cmp -s "$img" "$flash"
secs=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$T_DIR/out")
check "took at least the part's own time (1.851 s; took $secs s)" \
	python3 -c "import sys; sys.exit(0 if float('$secs') >= 1.851 else 1)"
# Not a timing target (that is fwpush bench's NOR row): only a bound that a model sleeping
# far too long would cross, loose enough for a loaded 2-core machine.
check "and not far more (< 3x)" python3 -c "import sys; sys.exit(0 if float('$secs') < 5.55 else 1)"
expect_fail "bad --flash-model" 2 "flash-model" \
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-bad" --flash "$T_DIR/x" --flash-model nor:speed=9
expect_fail "unknown --flash-model" 2 "flash-model" \
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-bad" --flash "$T_DIR/x" --flash-model nand
done_testing
