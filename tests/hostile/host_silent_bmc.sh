#!/usr/bin/env bash
# A BMC that beats its heartbeat and never answers (issue 12): the heartbeat stretches the wait
# for one answer (a slow flash is not a dead BMC), but only to 8 x --timeout. Before, a BMC that
# beat forever kept `fwpush push --timeout 1s` running forever.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/host_lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $((1 << 20))

# 8 x 500 ms = 4 s: not sooner (the heartbeat counts), not much later.
liar silent
t0=$(now_ms)
timed "heartbeat only, never an answer: exit 5" 6000 5 \
	"BMC beat its heartbeat but answered nothing for 4.0 s (waiting for START_UPGRADE" \
	"$FWPUSH" push "$img" --target "$WINDOW" --timeout 500ms
check "and not before 8 x --timeout: the heartbeat did stretch the wait" \
	[ $(($(now_ms) - t0)) -ge 3900 ]
check "nothing printed as pushed" [ ! -s "$T_DIR/out" ]

# Every DATA answered, then a FINISH that never ends: the NOR case gone wrong.
liar silent-finish
timed "heartbeat through a FINISH that never ends: exit 5" 6000 5 \
	"answered nothing for 4.0 s (waiting for FINISH" \
	"$FWPUSH" push "$img" --target "$WINDOW" --timeout 500ms --json
check "nothing printed as verified" [ ! -s "$T_DIR/out" ]

# A BMC that neither answers nor beats: the plain timeout, as before.
liar silent
kill -STOP "$BMC_PID"
timed "a stopped BMC (no heartbeat): exit 5 after --timeout" 2000 5 \
	"BMC made no progress for 0.5 s (waiting for START_UPGRADE)" \
	"$FWPUSH" push "$img" --target "$WINDOW" --timeout 500ms
kill -CONT "$BMC_PID"
done_testing
