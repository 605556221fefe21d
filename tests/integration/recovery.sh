#!/usr/bin/env bash
# Recovery on both sides: corrupted chunks are sent again, lost doorbells rung again,
# duplicated ones ignored; retries are bounded; a BMC drops a session whose host went away.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $((5 << 20))
start_bmc rec "$flash" --slots 4 --slot-size 64K --idle-timeout 300ms

# field FILE NAME: a number from push's JSON.
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }

push_inject() { "$FWPUSH" push "$img" --target "$WINDOW" --json --inject "$1" --seed "$2" >"$T_DIR/out"; }

check "bit flips after hashing: push completes" push_inject flip:10 3
check "bit flips: flash equals the image" cmp -s "$img" "$flash"
check "bit flips: every one caught and resent (flips $(field "$T_DIR/out" 'injected["flip"]'), resends $(field "$T_DIR/out" resends))" \
	[ "$(field "$T_DIR/out" 'int(resends >= 1 and resends <= injected["flip"])')" = 1 ]
check "lost doorbells: push completes" push_inject lose:10 5
check "lost doorbells: rung again ($(field "$T_DIR/out" rerings) times)" \
	[ "$(field "$T_DIR/out" 'int(rerings >= injected["lose"] > 0)')" = 1 ]
check "lost doorbells: flash equals the image" cmp -s "$img" "$flash"
check "duplicated doorbells: push completes" push_inject dup:50 9
check "duplicated doorbells: nothing sent twice" [ "$(field "$T_DIR/out" resends)" = 0 ]
check "duplicated doorbells: flash equals the image" cmp -s "$img" "$flash"

# Every chunk corrupted: retries run out, one clear line, exit 6, active image untouched.
cp "$img" "$T_DIR/before"
make_image "$T_DIR/img2" $((1 << 20))
expect_fail "corrupted beyond retries" 6 "chunk hash mismatch" \
	"$FWPUSH" push "$T_DIR/img2" --target "$WINDOW" --inject flip:100
check "corrupted beyond retries: active image untouched" cmp -s "$T_DIR/before" "$flash"

# The host dies mid-push; the BMC drops the session after its idle timeout, logs it, and
# serves the next push.
stop_bmc
"$FWPUSH" bmc-sim --window "$WINDOW" --flash "$flash" --slots 4 --slot-size 64K \
	--idle-timeout 300ms 2>"$T_DIR/bmc.log" &
BMC_PID=$!
bank=$(inactive_bank "$flash")
before=$(stat -c %y "$bank")
"$FWPUSH" push "$img" --target "$WINDOW" --inject lose:100 --timeout 5 -q &
host=$!
# The session is open once the BMC has sized the bank for it.
until [ "$(stat -c %y "$bank")" != "$before" ] || ! kill -0 $host 2>/dev/null; do sleep 0.01; done
# From just before the kill: the host's last message (a re-ring, every 20 ms) came at most
# that long before it, while reaping the killed host may take long (a sanitizer build).
t0=$(date +%s%N)
kill -9 $host; wait $host 2>/dev/null
for _ in $(seq 500); do
	grep -q "session idle too long" "$T_DIR/bmc.log" && break
	sleep 0.01
done
t1=$(date +%s%N)
check "BMC dropped the dead host's session after its idle timeout" \
	grep -q "session idle too long" "$T_DIR/bmc.log"
check "not before it: $(((t1 - t0) / 1000000)) ms after the host died (timeout 300 ms)" \
	[ $(((t1 - t0) / 1000000)) -ge 250 ]
check "and serves the next push" "$FWPUSH" push "$T_DIR/img2" --target "$WINDOW" -q
check "flash equals the new image" cmp -s "$T_DIR/img2" "$flash"
# Resume: a push started with --resume (it names the image by hash) dies just before it rings
# the chunk at 2 MiB; the next one with --resume continues from exactly there, and the
# whole-image hash still covers every byte.
stop_bmc
start_bmc rec "$flash" --slots 4 --slot-size 64K
"$FWPUSH" push "$img" --target "$WINDOW" --resume -q --inject kill:2M; rc=$?
check "host killed at 2 MiB (exit $rc)" [ "$rc" -eq 137 ]
"$FWPUSH" push "$img" --target "$WINDOW" --resume --json >"$T_DIR/out"; rc=$?
check "resumed push completes (exit $rc)" [ "$rc" -eq 0 ]
check "resumed from 2 MiB ($(field "$T_DIR/out" resumed_from))" \
	[ "$(field "$T_DIR/out" resumed_from)" = $((2 << 20)) ]
check "resumed push: flash equals the image" cmp -s "$img" "$flash"
# Killed after its last chunk, before the FINISH: the BMC holds the whole image, which is not
# a whole number of chunks; the resumed push sends only the FINISH.
make_image "$T_DIR/odd" $(((1 << 20) + 4097))
"$FWPUSH" push "$T_DIR/odd" --target "$WINDOW" --resume -q --inject kill:$(((1 << 20) + 4097))
"$FWPUSH" push "$T_DIR/odd" --target "$WINDOW" --resume --json >"$T_DIR/out"; rc=$?
check "killed before FINISH: resumed push completes (exit $rc)" [ "$rc" -eq 0 ]
check "killed before FINISH: resumed from the end ($(field "$T_DIR/out" resumed_from))" \
	[ "$(field "$T_DIR/out" 'int(resumed_from == bytes)')" = 1 ]
check "killed before FINISH: flash equals the image" cmp -s "$T_DIR/odd" "$flash"
# A resume for another image of the same size while a session is open: never continued.
make_image "$T_DIR/img-b" $((5 << 20))
"$FWPUSH" push "$img" --target "$WINDOW" --resume -q --inject kill:2M
"$FWPUSH" push "$T_DIR/img-b" --target "$WINDOW" --resume --json >"$T_DIR/out"; rc=$?
check "resume of another image: pushes (exit $rc)" [ "$rc" -eq 0 ]
check "resume of another image: starts at 0 ($(field "$T_DIR/out" resumed_from))" \
	[ "$(field "$T_DIR/out" resumed_from)" = 0 ]
check "resume of another image: flash equals it" cmp -s "$T_DIR/img-b" "$flash"
# A resume named by --expect-hash (the host hashes nothing first) continues like one named
# by the image's own hash.
hash_b=$(xxhsum -H2 "$img" | cut -d' ' -f1)
"$FWPUSH" push "$img" --target "$WINDOW" --resume -q --inject kill:3M
"$FWPUSH" push "$img" --target "$WINDOW" --resume --expect-hash "$hash_b" --json >"$T_DIR/out"
rc=$?
check "resume named by --expect-hash: pushes (exit $rc)" [ "$rc" -eq 0 ]
check "resume named by --expect-hash: from 3 MiB ($(field "$T_DIR/out" resumed_from))" \
	[ "$(field "$T_DIR/out" resumed_from)" = $((3 << 20)) ]
check "resume named by --expect-hash: flash equals the image" cmp -s "$img" "$flash"
check "a --resume with nothing to resume starts at 0" \
	[ "$("$FWPUSH" push "$T_DIR/img2" --target "$WINDOW" --resume --json | \
	     sed -n 's/.*"resumed_from":\([0-9]*\).*/\1/p')" = 0 ]
check "and completes" cmp -s "$T_DIR/img2" "$flash"
done_testing
