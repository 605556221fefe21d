#!/usr/bin/env bash
# A BMC that answers OK but lies — about a chunk's hash, the whole image's hash, the bytes it
# holds, what a new session or a resumed one holds, or which message it answers — must never get
# a push reported as verified: the host catches each lie with exit 7 and a line that names what
# the BMC said. (BMCs that go silent, or shrink the window: tests/hostile/host_*.sh.)
. "$(dirname "$0")/lib.sh"
: "${LYING_BMC:?LYING_BMC must point at the lying_bmc test peer}"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $((1 << 20))

# liar KIND: a lying BMC on a fresh window; returns once its window is formatted.
n=0
liar() {
	stop_bmc
	rm -f "$flash"*
	n=$((n + 1))
	WINDOW="shm:$T_NAME-$n"
	exec 3< <(exec "$LYING_BMC" --window "$WINDOW" --flash "$flash" --lie "$1" \
		--slots 4 --slot-size 65536 2>>"$T_DIR/liar.err")
	BMC_PID=$!
	read -r _ <&3 || { not_ok "lying_bmc --lie $1 did not start: $(cat "$T_DIR/liar.err")"; exit 1; }
}

# push_lied KIND PATTERN [push options]: the push exits 7 with PATTERN, never "verified".
push_lied() {
	local kind=$1 pattern=$2; shift 2
	liar "$kind"
	expect_fail "BMC lies ($kind): caught" 7 "$pattern" \
		"$FWPUSH" push "$img" --target "$WINDOW" --timeout 5 "$@"
	check "BMC lies ($kind): nothing printed as verified" [ ! -s "$T_DIR/out" ]
}

# The honest relay first: the lies below are the only thing wrong.
liar chunk-hash:1000000
check "an honest answer through the relay pushes and verifies" sh -c \
	'"$1" push "$2" --target "$3" --json | grep -q "\"verified\":true"' _ "$FWPUSH" "$img" "$WINDOW"
check "and the flash equals the image" cmp -s "$img" "$flash"

push_lied chunk-hash:3 "BMC's hash of DATA at offset 131072 differs from ours"
push_lied chunk-hash:16 "BMC's hash of DATA at offset 983040 differs from ours"
push_lied finish-hash "BMC's hash of FINISH differs from ours"
push_lied offset:2 "BMC acknowledged DATA at offset 65536 as holding 131071 bytes, expected 131072"
push_lied start-offset \
	"BMC's answer to START_UPGRADE says a new session holds 65536 bytes (must be 0)"
push_lied answer-type:2 "BMC answered DATA at offset 65536 with an OK of type 3 (FINISH)"

# Resume: a first push dies half-way, the lying BMC then claims more than the image.
liar resume-offset:2
"$FWPUSH" push "$img" --target "$WINDOW" --resume -q --inject kill:512K
expect_fail "BMC lies about a resumed session: caught" 7 \
	"says it holds 1114112 bytes of a 1048576-byte image" \
	"$FWPUSH" push "$img" --target "$WINDOW" --resume --timeout 5
done_testing
