#!/usr/bin/env bash
# The CPU an idle BMC burns, polling memory against sleeping on its ivshmem eventfd: utime +
# stime from /proc/PID/stat over the same idle period (IDLE_SECS, default 5), side by side.
#   polling     bmc-sim --window shm:NAME                 (sleeps at most 1 ms between polls)
#   interrupts  bmc-sim --window shm:NAME --ivshmem SOCK  (fwp_target_wait, woken by a ring)
#   transport   ivshmem_peer echo                          (fwp_target_wait alone, 100 ms timeouts)
# Prints each as CPU ms per idle second; the interrupt-driven ones must burn less than polling.
# Usage: FWPUSH=... IVSHMEM_PEER=... idle_cpu.sh  (perf-reports/NOTES.md: IDLE_SECS=60)
set -u
SECS=${IDLE_SECS:-5}
NAME="fwpidle-$$"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
PIDS=()
FAILS=0
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -f /dev/shm/"$NAME"-*
	rm -rf "$T_DIR"
}
trap cleanup EXIT
check() { local what=$1; shift; if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; FAILS=$((FAILS + 1)); fi; }

start() { # start KIND COMMAND...: runs it in the background, waits for its window
	local kind=$1; shift
	"$@" 2>"$T_DIR/$kind.log" >&2 &
	PIDS+=($!)
	eval "PID_$kind=$!"
	for _ in $(seq 200); do [ -s "/dev/shm/$NAME-$kind" ] && return 0; sleep 0.02; done
	echo "FAIL - $kind did not create its window: $(cat "$T_DIR/$kind.log")"
	exit 1
}
ticks() { # utime + stime of PID, in clock ticks (fields 14 and 15, after the ")" of comm)
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

start poll "$FWPUSH" bmc-sim --window "shm:$NAME-poll" --flash "$T_DIR/flash-poll" -q
start irq "$FWPUSH" bmc-sim --window "shm:$NAME-irq" --ivshmem "$T_DIR/irq.sock" \
	--flash "$T_DIR/flash-irq" -q
start echo "$IVSHMEM_PEER" echo "shm:$NAME-echo,ivshmem=$T_DIR/echo.sock" $((SECS + 30))
sleep 1	# past start-up: only the idle loop counts
hz=$(getconf CLK_TCK)
declare -A t0 t1
for k in poll irq echo; do p="PID_$k"; t0[$k]=$(ticks "${!p}"); done
sleep "$SECS"
for k in poll irq echo; do p="PID_$k"; t1[$k]=$(ticks "${!p}"); done
ms() { echo $(((t1[$1] - t0[$1]) * 1000 * 1000 / hz / SECS / 1000)); }
echo "# idle ${SECS} s, CPU ms per idle second (utime+stime, ${hz} Hz ticks):" \
	"polling $(ms poll), interrupts $(ms irq), transport alone $(ms echo)"
echo "idle_cpu polling_ticks=$((t1[poll] - t0[poll])) interrupts_ticks=$((t1[irq] - t0[irq]))" \
	"echo_ticks=$((t1[echo] - t0[echo])) secs=$SECS hz=$hz"
check "the polling BMC burns CPU while idle ($((t1[poll] - t0[poll])) ticks)" \
	[ $((t1[poll] - t0[poll])) -gt 0 ]
check "waiting on the eventfd burns less than polling" \
	[ $((t1[echo] - t0[echo])) -lt $((t1[poll] - t0[poll])) ]
check "bmc-sim --ivshmem, idle, burns less than the polling bmc-sim" \
	[ $((t1[irq] - t0[irq])) -lt $((t1[poll] - t0[poll])) ]
[ "$FAILS" -eq 0 ]
