#!/usr/bin/env bash
# Bad input and a vanishing BMC: one clear line, the documented exit code, no hang, and the
# active image never half-written.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" 300000
: >"$T_DIR/empty"

expect_fail "missing image" 3 "no such file" \
	"$FWPUSH" push "$T_DIR/nope" --target "shm:$T_NAME-x"
expect_fail "empty image" 3 "is empty" \
	"$FWPUSH" push "$T_DIR/empty" --target "shm:$T_NAME-x"
expect_fail "image is a directory" 3 "is a directory" \
	"$FWPUSH" push "$T_DIR" --target "shm:$T_NAME-x"
expect_fail "unknown target scheme" 4 "unknown scheme" \
	"$FWPUSH" push "$img" --target "tcp:10.0.0.1"
expect_fail "malformed target" 4 "malformed" \
	"$FWPUSH" push "$img" --target "shm:../etc"
expect_fail "no target" 2 "target is required" "$FWPUSH" push "$img"
expect_fail "bad --slots" 2 "slots" "$FWPUSH" push "$img" --target "shm:x" --slots 0
expect_fail "bad --timeout" 2 "timeout" "$FWPUSH" push "$img" --target "shm:x" --timeout soon
expect_fail "unknown command" 2 "unknown command" "$FWPUSH" frobnicate
expect_fail "no bmc-sim listening: timeout" 5 "no BMC answered within 0.3 s" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-none" --timeout 300ms

# Not an fwpush window: some other shared-memory object with data in it.
head -c 8192 /dev/urandom >"/dev/shm/$T_NAME-junk"
expect_fail "window with wrong magic" 4 "not an fwpush window" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-junk" --timeout 1

# A formatted window of another protocol version (1: the one before; 3: one after), with
# something holding the BMC's lock (byte 0) so it is not taken for a dead BMC's leftover: the
# line names both versions (PROTOCOL.md 11).
for v in 1 3; do
	expect_fail "window of protocol version $v" 4 \
		"the BMC speaks window protocol version $v; this fwpush speaks 2" \
		python3 -c '
import fcntl, os, struct, subprocess, sys
name, fwpush, img, version = sys.argv[1:]
fd = os.open("/dev/shm/" + name, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 1 << 20)
os.pwrite(fd, struct.pack("<QHHIIII", 0x3157485355505746, int(version), 64, 4, 65536, 65536,
			  4096), 0)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
p = subprocess.run([fwpush, "push", img, "--target", "shm:" + name, "--timeout", "1"])
sys.exit(p.returncode)' "$T_NAME-v$v" "$FWPUSH" "$img" "$v"
done

# Image larger than the flash area; options that do not fit the window.
start_bmc small "$flash" --flash-size 100000 --slots 2 --slot-size 64K
expect_fail "image larger than the flash" 3 "larger than the BMC's flash" \
	"$FWPUSH" push "$img" --target "$WINDOW" --timeout 2
make_image "$T_DIR/img-small" 5000
expect_fail "--slots beyond the window" 2 "do not fit" \
	"$FWPUSH" push "$T_DIR/img-small" --target "$WINDOW" --slots 3
expect_fail "--chunk-size beyond a slot" 2 "do not fit" \
	"$FWPUSH" push "$T_DIR/img-small" --target "$WINDOW" --chunk-size 128K
expect_fail "--expect-hash mismatch" 7 "differs from --expect-hash" \
	"$FWPUSH" push "$T_DIR/img-small" --target "$WINDOW" \
	--expect-hash 00000000000000000000000000000000
check "nothing activated by the refused pushes" [ ! -e "$flash" ]

# No permission on the window: permission.sh, a test of its own (it can need a skip).

# A truncated image: the host cannot know, unless told what the image must hash to.
head -c 4000 "$T_DIR/img-small" >"$T_DIR/img-truncated"
expect_fail "truncated image (hash given)" 7 "differs from --expect-hash" \
	"$FWPUSH" push "$T_DIR/img-truncated" --target "$WINDOW" \
	--expect-hash "$(xxhsum -H2 "$T_DIR/img-small" | cut -d' ' -f1)"
check "nothing activated by the truncated image" [ ! -e "$flash" ]
expect_fail "second bmc-sim on the same window" 4 "another BMC already serves it" \
	"$FWPUSH" bmc-sim --window "$WINDOW" --flash "$T_DIR/other"
check "a good push still works after all that" \
	"$FWPUSH" push "$T_DIR/img-small" --target "$WINDOW" -q
check "flash equals the good image" cmp -s "$T_DIR/img-small" "$flash"
stop_bmc

# bmc-sim killed mid-push: the host times out with its code and message, and the active image
# is still the previous one, whole.
start_bmc killed "$flash" --slots 4 --slot-size 1M
big="$T_DIR/big"
make_image "$big" $((768 << 20))
bank=$(inactive_bank "$flash")
"$FWPUSH" push "$big" --target "$WINDOW" --timeout 1 >"$T_DIR/kout" 2>"$T_DIR/kerr" &
push_pid=$!
for _ in $(seq 2000); do
	[ -s "$bank" ] && break
	sleep 0.001
done
kill -9 "$BMC_PID"
BMC_PID=
timeout 20 tail --pid=$push_pid -f /dev/null
wait $push_pid; rc=$?
if [ ! -s "$bank" ] && [ "$rc" -eq 0 ]; then
	not_ok "bmc-sim killed mid-push: the push finished before the kill"
else
	check "bmc-sim killed mid-push: host exits 5 (got $rc)" [ "$rc" -eq 5 ]
	check "bmc-sim killed mid-push: message says no progress" \
		grep -q "BMC made no progress for 1.0 s" "$T_DIR/kerr"
fi
check "active image untouched by the interrupted push" cmp -s "$T_DIR/img-small" "$flash"
rm -f "$big"
done_testing
