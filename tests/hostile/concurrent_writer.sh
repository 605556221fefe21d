#!/usr/bin/env bash
# One writer per flash: a second bmc-sim on another window but the same flash is refused with
# one line naming the flash (exit 4), before a push and in the middle of one; rt-update
# --activate of a staged update is refused while bmc-sim holds the flash; neither touches the
# active image or the push under way. Once the holder is gone (stopped, or killed: the kernel
# drops its lock), the flash opens again.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/rt_lib.sh"

flash="$T_DIR/flash.bin"
make_image "$T_DIR/v1" $((1 << 20))
make_image "$T_DIR/v2" $((3 << 20))
make_image "$T_DIR/rt" $((2 << 20))
in_use="flash $flash: in use by another process"
# second_bmc SUFFIX: a bmc-sim on the same flash; one that is not refused is stopped after 3 s.
second_bmc() {
	timeout -s INT 3 "$FWPUSH" bmc-sim --window "shm:$T_NAME-$1" --flash "$flash" --quiet
}

start_bmc one "$flash" --slots 4 --slot-size 64K
check "the first bmc-sim serves a push" "$FWPUSH" push "$T_DIR/v1" --target "$WINDOW" -q
expect_fail "a second bmc-sim on the same flash is refused" 4 "$in_use" \
	second_bmc two
check "... and made no window" [ ! -e "/dev/shm/$T_NAME-two" ]
check "the active image is still the first push's" cmp -s "$T_DIR/v1" "$flash"

# In the middle of a push (slowed: every doorbell lost once, so it takes a while).
"$FWPUSH" push "$T_DIR/v2" --target "$WINDOW" -q --timeout 5s --inject lose:100 --seed 3 &
host=$!
sleep 0.2
check "a push is under way" kill -0 "$host"
expect_fail "a second bmc-sim mid-push is refused" 4 "$in_use" \
	second_bmc three
"$FWPUSH" rt-update --stage "$T_DIR/rt" --name "$RT_NAME" -q
expect_fail "rt-update --activate mid-push is refused" 4 "$in_use" \
	"$FWPUSH" rt-update --activate --flash "$flash" --name "$RT_NAME" --timeout 5s
wait "$host"
rc=$?
check "the push under way completes (exit $rc)" [ "$rc" -eq 0 ]
check "... and its image is the active one, byte for byte" cmp -s "$T_DIR/v2" "$flash"

# The holder stops: rt-update applies the update it was refused (it was refused for the lock).
stop_bmc
"$FWPUSH" rt-update --activate --flash "$flash" --name "$RT_NAME" --timeout 5s -q
rc=$?
check "with bmc-sim gone, rt-update --activate applies (exit $rc)" [ "$rc" -eq 0 ]
check "... the staged update is the active image" cmp -s "$T_DIR/rt" "$flash"

# A bmc-sim killed with SIGKILL holds nothing: the next one takes the flash over.
start_bmc four "$flash" --slots 4 --slot-size 64K
check "a bmc-sim on the flash again" "$FWPUSH" push "$T_DIR/v1" --target "$WINDOW" -q
kill -9 "$BMC_PID"
wait "$BMC_PID" 2>/dev/null
start_bmc five "$flash" --slots 4 --slot-size 64K
check "after a SIGKILL, the next bmc-sim takes the flash over" \
	"$FWPUSH" push "$T_DIR/v2" --target "$WINDOW" -q
check "... and its push is the active image" cmp -s "$T_DIR/v2" "$flash"
done_testing
