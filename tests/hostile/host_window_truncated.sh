#!/usr/bin/env bash
# A BMC that shrinks the window's file mid-push (issue 12). The host's mapping then has pages
# with nothing behind them; touching one raised SIGBUS and killed the host (exit 135) in the
# middle of a push. Now it is an error with its line: exit 4, never a signal, and quickly.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/host_lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $((1 << 20))

# truncate:N: after answering the Nth of the 16 DATA messages, the window is cut to one page.
for n in 1 3 16; do
	liar "truncate:$n"
	timed "window truncated after DATA $n: exit 4, one line" 3000 4 \
		"target $WINDOW: the window's memory went away under the host (its file was truncated)" \
		"$FWPUSH" push "$img" --target "$WINDOW" --timeout 5
	check "window truncated after DATA $n: nothing printed as pushed" [ ! -s "$T_DIR/out" ]
	check "window truncated after DATA $n: nothing activated" [ ! -e "$flash" ]
done

# Cut while the host waits on an answer that never comes (the BMC beats, answers nothing): to
# nothing, the next poll faults; to one page, the doorbells it polls are still there and the
# heartbeat goes on, and only the host's check of the file's size tells. Either way it is seen
# within the stall checks, long before 8 x --timeout.
for size in 0 4096; do
	liar silent
	t0=$(now_ms)
	timeout -s KILL 30 "$FWPUSH" push "$img" --target "$WINDOW" --timeout 1 \
		>"$T_DIR/out" 2>"$T_DIR/err" &
	pid=$!
	sleep 0.3
	truncate -s $size "/dev/shm/${WINDOW#shm:}"
	reap $pid
	ms=$(($(now_ms) - t0))
	check "window cut to $size bytes under a waiting host: exit 4 (got $rc)" [ "$rc" -eq 4 ]
	check "window cut to $size bytes: its line says so" \
		grep -q "the window's memory went away" "$T_DIR/err"
	check "window cut to $size bytes: seen at once ($ms ms, under 1000)" [ "$ms" -lt 1000 ]
done
done_testing
