#!/usr/bin/env bash
# The live progress of a push to many targets, in a real terminal (tmux): one line per target,
# redrawn in place (each target on exactly one line of the screen, not scrolled), its final
# verdict, and the summary; one target: its live line, then only the plain result line in its
# place; the same push into a pipe prints only the results.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR" || exit 1
command -v tmux >/dev/null || { not_ok "tmux is not installed (tools/deps.sh --test)"; done_testing; exit; }
PIDS=()
SOCK="$T_DIR/tmux.sock"
trap 'tmux -S "$SOCK" kill-server 2>/dev/null; kill -9 "${PIDS[@]}" 2>/dev/null; t_cleanup' EXIT
for n in 1 2 3; do
	# a slow NOR part, so the push lasts long enough to be redrawn several times
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-$n" --flash "f$n" --slots 4 --slot-size 64K \
		--flash-model nor:scale=0.1 --quiet 2>/dev/null &
	PIDS[$n]=$!
done
for n in 1 2 3; do
	for _ in $(seq 100); do [ -e "/dev/shm/$T_NAME-$n" ] && break; sleep 0.05; done
done
make_image img $((3 << 20))
cmd="'$FWPUSH' push img -t shm:$T_NAME-1 -t shm:$T_NAME-2 -t shm:$T_NAME-3 -t shm:$T_NAME-none"
cmd="$cmd --timeout 3s; echo rc=\$? >rc"
tmux -S "$SOCK" new-session -d -x 160 -y 40 -c "$T_DIR" "$cmd; sleep 30"
seen_live=0
for _ in $(seq 200); do
	[ -s rc ] && break
	tmux -S "$SOCK" capture-pane -p >pane.live
	grep -q "of 4 targets done" pane.live && seen_live=1
	sleep 0.05
done
tmux -S "$SOCK" capture-pane -p >pane
check "it ran to its end: exit 11 (one target has no BMC) ($(cat rc 2>/dev/null))" \
	grep -qx "rc=11" rc
check "while it ran: the live count line was on the screen" [ "$seen_live" = 1 ]
for n in 1 2 3; do
	check "target $n: exactly one line on the screen, done and verified" \
		[ "$(grep -c "^shm:$T_NAME-$n " pane)" = 1 ] &&
		grep -q "shm:$T_NAME-$n .*done .*verified" pane
	check "target $n: its flash equals the image" cmp -s img "f$n"
done
check "the target with no BMC: one line, FAILED with its reason" \
	[ "$(grep -c "^shm:$T_NAME-none " pane)" = 1 ] &&
	grep -q "shm:$T_NAME-none .*FAILED .*no BMC answered" pane
check "the summary names the failed one" \
	grep -q "pushed img to 3 of 4 targets in .*failed: shm:$T_NAME-none (exit 5)" pane
check "the live count gave way to the summary" bash -c "! grep -q 'of 4 targets done' pane"
# One target on a terminal: a live line while it runs, then the plain result line in its place.
rm -f rc
tmux -S "$SOCK" new-session -d -x 250 -y 40 -c "$T_DIR" \
	"'$FWPUSH' push img -t shm:$T_NAME-2; echo rc=\$? >rc; sleep 30"
seen_live=0
for _ in $(seq 200); do
	[ -s rc ] && break
	tmux -S "$SOCK" capture-pane -p -t "$(tmux -S "$SOCK" list-sessions -F '#S' | tail -1)" \
		>pane1.live
	grep -q "^shm:$T_NAME-2 .*\(start\|progress\|verify\)" pane1.live && seen_live=1
	sleep 0.05
done
tmux -S "$SOCK" capture-pane -p -t "$(tmux -S "$SOCK" list-sessions -F '#S' | tail -1)" >pane1
check "one target: exit 0 ($(cat rc 2>/dev/null))" grep -qx "rc=0" rc
check "one target: its live line was on the screen while it ran" [ "$seen_live" = 1 ]
check "one target: then only the plain result line, the live line gone, no summary" \
	bash -c '[ "$(grep -c . "$1")" = 1 ] && grep -q "^pushed img to shm:$2-2: .* verified by the BMC$" "$1"' \
	_ pane1 "$T_NAME"
"$FWPUSH" push img -t "shm:$T_NAME-1" -t "shm:$T_NAME-2" >out 2>err
check "into a pipe: only the result lines and the summary, no escape codes" \
	[ "$(wc -l <out)" = 3 ] && ! grep -q $'\033' out && [ ! -s err ]
done_testing
