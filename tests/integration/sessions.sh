#!/usr/bin/env bash
# Sessions on one long-running bmc-sim: a host killed mid-push is replaced by the next without
# a BMC restart; a new bmc-sim takes over a window a dead one left behind.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
big="$T_DIR/big"
make_image "$img" 3000000
make_image "$big" $((512 << 20))
start_bmc s1 "$flash" --slots 4 --slot-size 256K

check "first push" "$FWPUSH" push "$img" --target "$WINDOW" -q
bank=$(inactive_bank "$flash")
"$FWPUSH" push "$big" --target "$WINDOW" -q &
host=$!
for _ in $(seq 2000); do
	[ -s "$bank" ] && break
	sleep 0.001
done
kill -9 $host
wait $host 2>/dev/null
check "active image still the first one after the host died" cmp -s "$img" "$flash"
check "next host resynchronises and pushes" "$FWPUSH" push "$big" --target "$WINDOW" -q \
	--timeout 10
check "flash equals the second image" cmp -s "$big" "$flash"

# Two hosts at once: the second waits for the first's push (its timeout allowing), else exit 4.
make_image "$T_DIR/mid" $((40 << 20))
"$FWPUSH" push "$T_DIR/mid" --target "$WINDOW" -q --inject lose:100 --timeout 10 &
first=$!
sleep 0.2
expect_fail "a second host, out of patience: another host is pushing" 4 \
	"another host is pushing" "$FWPUSH" push "$img" --target "$WINDOW" --timeout 100ms
check "a second host with time to wait queues and pushes" \
	"$FWPUSH" push "$img" --target "$WINDOW" -q --timeout 60
wait $first; rc=$?
check "the first host's push completed too (exit $rc)" [ "$rc" -eq 0 ]
check "the last push is the active image" cmp -s "$img" "$flash"

# The BMC dies and leaves its window behind. A host that comes first must not take the stale
# window for a live one: it waits, and pushes once a new bmc-sim has replaced it.
kill -9 "$BMC_PID"; BMC_PID=
wait 2>/dev/null
check "the dead BMC's window is still there" [ -e "/dev/shm/$T_NAME-s1" ]
cp "/dev/shm/$T_NAME-s1" "$T_DIR/stale"
"$FWPUSH" push "$img" --target "$WINDOW" -q --timeout 10 &
host=$!
# A second is a hundred times what a host needs to start and write its START: a host that
# took the stale window for a live one would have written into it by now.
sleep 1
check "a waiting host writes nothing into a window no BMC is attached to" \
	cmp -s "$T_DIR/stale" "/dev/shm/$T_NAME-s1"
check "and is still waiting" kill -0 $host
start_bmc s1 "$flash" --slots 2 --slot-size 64K
wait $host; rc=$?
check "a host waiting on a stale window pushes to the new bmc-sim (exit $rc)" [ "$rc" -eq 0 ]
check "flash equals the image" cmp -s "$img" "$flash"
done_testing
