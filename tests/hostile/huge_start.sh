#!/usr/bin/env bash
# A START for a 2 GiB image costs the BMC what is stored, not what is announced: a host with
# --timeout 1s pushing a sparse 2 GiB image gets its answers (it is killed by its own
# --inject at 32 MiB, never timed out); its bank then holds about what arrived, not 2 GiB of
# blocks; the session's end (the idle timeout for a killed host, the ABORT of a host that
# fails) gives the blocks back; the active image never changes.
. "$(dirname "$0")/../integration/lib.sh"

flash="$T_DIR/flash.bin"
make_image "$T_DIR/v1" $((1 << 20))
truncate -s 2G "$T_DIR/huge"
"$FWPUSH" bmc-sim --window "shm:$T_NAME-huge" --flash "$flash" --slots 4 --slot-size 256K \
	--idle-timeout 1s 2>"$T_DIR/bmc.log" &
BMC_PID=$!
WINDOW="shm:$T_NAME-huge"
check "a first image goes in" "$FWPUSH" push "$T_DIR/v1" --target "$WINDOW" -q
bank=$(inactive_bank "$flash")
mib() { echo $(($(stat -c %b "$1" 2>/dev/null || echo 0) * 512 >> 20)); }
# logged N PATTERN: the BMC's log has N lines matching PATTERN within 5 s.
logged() {
	local i
	for i in $(seq 100); do
		[ "$(grep -c -- "$2" "$T_DIR/bmc.log")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

t0=$(date +%s%N)
# (In a subshell: the shell's "Killed" notice is not this test's output.)
rc=$( ("$FWPUSH" push "$T_DIR/huge" --target "$WINDOW" --timeout 1s --inject kill:32M \
	2>"$T_DIR/err"; echo $?) 2>/dev/null)
ms=$((($(date +%s%N) - t0) / 1000000))
check "2 GiB START, --timeout 1s: the host reached 32 MiB and was killed there (exit $rc, 137 wanted; $ms ms; $(cat "$T_DIR/err"))" \
	[ "$rc" -eq 137 ]
used=$(mib "$bank")
check "the bank holds about what arrived (${used} MiB allocated; 32 MiB sent, at most 2 steps of 16 MiB ahead)" \
	[ "$used" -le 64 ]
check "the idle timeout ends the killed host's session" logged 1 "session idle too long"
check "... and gives the bank's blocks back ($(mib "$bank") MiB)" [ "$(mib "$bank")" -eq 0 ]

# A host that fails (every chunk corrupted, 3 resends each) sends ABORT: the blocks go back.
"$FWPUSH" push "$T_DIR/huge" --target "$WINDOW" --timeout 1s --inject flip:100 --seed 1 \
	2>"$T_DIR/err"
rc=$?
check "a host that gives up exits 6 ($rc: $(cat "$T_DIR/err"))" [ "$rc" -eq 6 ]
check "its ABORT ends the session" logged 1 "aborted on ABORT"
check "... and gives the bank's blocks back ($(mib "$bank") MiB)" [ "$(mib "$bank")" -eq 0 ]
check "the active image is the first one, byte for byte" cmp -s "$T_DIR/v1" "$flash"
check "bmc-sim is alive" kill -0 "$BMC_PID"
done_testing
