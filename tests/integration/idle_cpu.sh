#!/usr/bin/env bash
# An idle BMC polling memory against one sleeping on its ivshmem doorbell (PROTOCOL.md 8), side
# by side over the same idle period (IDLE_SECS, default 5): CPU time and how often each ran,
# from /proc/PID/schedstat (nanoseconds on a CPU, and timeslices run).
#   polling     bmc-sim --window shm:NAME                 (sleeps at most 1 ms between polls)
#   interrupts  bmc-sim --window shm:NAME --ivshmem SOCK  (sleeps until rung, or its next beat)
# The check is on behaviour, not speed: the sleeping BMC wakes only for its heartbeat (every
# 50 ms, 20 a second), the polling one about a thousand times a second.
# Usage: FWPUSH=... idle_cpu.sh  (perf-reports/NOTES.md used IDLE_SECS=60)
. "$(dirname "$0")/lib.sh"
SECS=${IDLE_SECS:-5}

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; t_cleanup' EXIT
declare -A PID
for kind in poll irq; do
	extra=()
	[ "$kind" = irq ] && extra=(--ivshmem "$T_DIR/irq.sock")
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-$kind" --flash "$T_DIR/flash-$kind" -q "${extra[@]}" \
		2>"$T_DIR/$kind.log" &
	PID[$kind]=$!
	PIDS+=("${PID[$kind]}")
	for _ in $(seq 200); do [ -s "/dev/shm/$T_NAME-$kind" ] && break; sleep 0.02; done
done
sleep 1	# past start-up: only the idle loop counts
declare -A ns0 runs0 ns runs
for k in poll irq; do read -r ns0[$k] _ runs0[$k] <"/proc/${PID[$k]}/schedstat"; done
sleep "$SECS"
for k in poll irq; do
	read -r n _ r <"/proc/${PID[$k]}/schedstat"
	ns[$k]=$((n - ns0[$k])) runs[$k]=$((r - runs0[$k]))
done
per_s() { echo $(($1 / SECS)); }
echo "# idle $SECS s: polling $((ns[poll] / 1000 / SECS)) us CPU and $(per_s "${runs[poll]}") runs" \
	"per second; interrupts $((ns[irq] / 1000 / SECS)) us CPU and $(per_s "${runs[irq]}") runs per second"
check "the doorbell BMC sleeps until rung: under 100 runs per idle second ($(per_s "${runs[irq]}"))" \
	[ "$(per_s "${runs[irq]}")" -lt 100 ]
check "and still beats: at least 10 runs per idle second" [ "$(per_s "${runs[irq]}")" -ge 10 ]
check "the polling BMC runs far more often ($(per_s "${runs[poll]}") per second)" \
	[ "${runs[poll]}" -gt $((4 * runs[irq])) ]
check "and the doorbell BMC burns less CPU idle" [ "${ns[irq]}" -lt "${ns[poll]}" ]
done_testing
