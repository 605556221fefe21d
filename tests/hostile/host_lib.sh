# Shared by the host_*.sh hostile tests: a lying or misbehaving BMC (tests/peers/lying_bmc.c)
# on a fresh window, and a clock. Source after ../integration/lib.sh.
: "${LYING_BMC:?LYING_BMC must point at the lying_bmc test peer}"

# liar KIND [lying_bmc options]: a lying BMC on a fresh window $WINDOW with flash $flash
# (removed first); returns once the window is formatted. Its stdout stays open on fd 3.
n_liar=0
liar() {
	local kind=$1; shift
	stop_bmc
	rm -f "$flash"*
	n_liar=$((n_liar + 1))
	WINDOW="shm:$T_NAME-$n_liar"
	exec 3< <(exec "$LYING_BMC" --window "$WINDOW" --flash "$flash" --lie "$kind" \
		--slots 4 --slot-size 65536 "$@" 2>>"$T_DIR/liar.err")
	BMC_PID=$!
	read -r _ <&3 ||
		{ not_ok "lying_bmc --lie $kind did not start: $(cat "$T_DIR/liar.err")"; exit 1; }
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# timed DESCRIPTION MAX_MS CODE PATTERN COMMAND...: expect_fail, and it took at most MAX_MS
# (the command is killed after 20 s, so a hang fails instead of hanging the suite).
timed() {
	local what=$1 max=$2 code=$3 pattern=$4 t0 ms; shift 4
	t0=$(now_ms)
	expect_fail "$what" "$code" "$pattern" timeout -s KILL 20 "$@"
	ms=$(($(now_ms) - t0))
	check "$what: took $ms ms (at most $max)" [ "$ms" -le "$max" ]
}

# reap PID: waits for a background command started as `timeout -s KILL 30 COMMAND &` (a hang is
# killed and fails, never hangs the suite) and sets rc to its exit status.
reap() {
	wait "$1"
	rc=$?
}
