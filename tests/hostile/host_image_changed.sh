#!/usr/bin/env bash
# The image is written to while it is pushed (issue 12). The host reads it chunk by chunk, so an
# overwrite in place mid-push sent the BMC a mix of both versions, which it verified (against the
# host's hash of that same mix) and activated: reported as verified, matching neither file. Now
# the host compares the image's size, times and inode before and after reading it and, unless
# something pins the bytes, refuses to send the FINISH: exit 3, nothing activated. Where the
# bytes are pinned (--expect-hash, a signature, --resume's hash up front) the BMC's check or the
# host's own refuses the mix.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/host_lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
old="$T_DIR/old"
new="$T_DIR/new"
make_image "$old" $((1 << 20))
make_image "$new" $((1 << 20))

# mid_push CHANGE [push options]: the lying BMC holds its answer to the 2nd DATA; meanwhile
# CHANGE is done to the image (a fresh copy of $old), then the answer is let go. Sets rc.
mid_push() {
	local change=$1; shift
	cp "$old" "$img"
	liar hold:2 "${LIAR_OPTS[@]}"
	timeout -s KILL 30 "$FWPUSH" push "$img" --target "$WINDOW" --timeout 5 "$@" \
		>"$T_DIR/out" 2>"$T_DIR/err" &
	local pid=$!
	read -r -t 10 _ <&3 || not_ok "the lying BMC never held an answer"
	eval "$change"
	kill -USR1 "$BMC_PID"
	reap $pid
}

# expect CODE PATTERN WHAT: the last mid_push exited CODE with one line matching PATTERN.
expect() {
	if [ "$rc" -eq "$1" ] && [ "$(wc -l <"$T_DIR/err")" -eq 1 ] && grep -q -- "$2" "$T_DIR/err"; then
		ok "$3 (exit $rc: $(cat "$T_DIR/err"))"
	else
		not_ok "$3: want exit $1 and one line matching '$2', got exit $rc:"
		sed 's/^/       /' "$T_DIR/err"
	fi
}

LIAR_OPTS=()
overwrite='dd if="$new" of="$img" conv=notrunc status=none'
mid_push "$overwrite"
expect 3 "image $img changed while it was pushed" "overwritten in place mid-push: exit 3"
check "overwritten: not reported as pushed" [ ! -s "$T_DIR/out" ]
check "overwritten: nothing activated" [ ! -e "$flash" ]

mid_push 'truncate -s 300000 "$img"'
expect 3 "image $img changed while it was pushed" "truncated mid-push: exit 3"
check "truncated: nothing activated" [ ! -e "$flash" ]

mid_push 'head -c 65536 "$new" >>"$img"'
expect 3 "image $img changed while it was pushed" "appended to mid-push: exit 3"
check "appended to: nothing activated" [ ! -e "$flash" ]

# Pinned bytes: the mix is refused by a hash check, the host's or the BMC's.
mid_push "$overwrite" --expect-hash "$(xxhsum -H2 "$old" | cut -d' ' -f1)"
expect 7 "differs from --expect-hash" "overwritten, --expect-hash given: exit 7"
check "--expect-hash: nothing activated" [ ! -e "$flash" ]

mid_push "$overwrite" --resume
expect 6 "BMC refused FINISH: image hash mismatch (status 8)" \
	"overwritten, --resume (the START names the hash): the BMC refuses, exit 6"
check "--resume: nothing activated" [ ! -e "$flash" ]

"$FWPUSH" keygen --out "$T_DIR/key" >/dev/null
"$FWPUSH" sign "$old" --key "$T_DIR/key" --out "$T_DIR/old.sig" >/dev/null
LIAR_OPTS=(--pubkey "$T_DIR/key.pub")
mid_push "$overwrite" --signature "$T_DIR/old.sig"
expect 6 "BMC refused FINISH: signature does not verify" \
	"overwritten, signed: the BMC refuses, exit 6"
check "signed: nothing activated" [ ! -e "$flash" ]
LIAR_OPTS=()

# Unchanged, the same hold pushes and verifies: the hold itself is not what fails the above.
mid_push ":"
check "left alone through the same hold: pushed (exit $rc)" [ "$rc" -eq 0 ]
check "and the flash is the image" cmp -s "$old" "$flash"
done_testing
