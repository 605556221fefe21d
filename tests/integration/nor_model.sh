#!/usr/bin/env bash
# The NOR flash model: FINISH is acknowledged only after the part's own erase + program time,
# the host does not time out while the part works (heartbeat), and the image is whole.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $((4 << 20))
# 64 sectors x 160 ms + 4 MiB at 2 MB/s = 12.34 s of part time; x0.05 = 0.617 s.
start_bmc nor "$flash" --slots 4 --slot-size 64K --flash-model nor:scale=0.05
"$FWPUSH" push "$img" --target "$WINDOW" --json --timeout 300ms >"$T_DIR/out"; rc=$?
check "push through the NOR model succeeds with a 300 ms timeout (exit $rc)" [ "$rc" -eq 0 ]
check "flash equals the image" cmp -s "$img" "$flash"
secs=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$T_DIR/out")
check "took at least the part's own time (0.617 s; took $secs s)" \
	python3 -c "import sys; sys.exit(0 if float('$secs') >= 0.617 else 1)"
# Not a timing target (that is fwpush bench's NOR row): only a bound that a model sleeping
# far too long would cross, loose enough for a loaded 2-core machine.
check "and not far more (< 3x)" python3 -c "import sys; sys.exit(0 if float('$secs') < 1.85 else 1)"
expect_fail "bad --flash-model" 2 "flash-model" \
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-bad" --flash "$T_DIR/x" --flash-model nor:speed=9
expect_fail "unknown --flash-model" 2 "flash-model" \
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-bad" --flash "$T_DIR/x" --flash-model nand
done_testing
