#!/usr/bin/env bash
# No permission on the window: a push that may not open the BMC's window exits 4 with
# "permission denied" on one line, and nothing reaches the active image; the same push with
# permission then succeeds (so the denial, not a dead BMC, was what stopped it). As root: user
# nobody against root's 0600 window (setpriv). As any other user: the window's owner after
# chmod 000 (which would not stop root). Exit 77 only where no denial can be arranged.
. "$(dirname "$0")/lib.sh"

skip() { echo "SKIP: $*"; exit 77; }
uid=$(id -u)
if [ "$uid" -eq 0 ]; then
	command -v setpriv >/dev/null ||
		skip "running as root without setpriv (util-linux): cannot push as an unprivileged user"
fi

flash="$T_DIR/flash.bin"
start_bmc perm "$flash" --slots 2 --slot-size 64K
shm="/dev/shm/$T_NAME-perm"
for _ in $(seq 200); do [ -s "$shm" ] && break; sleep 0.01; done
check "bmc-sim created the window $shm" [ -s "$shm" ]
img="$T_DIR/img"
make_image "$img" 5000
chmod 755 "$T_DIR"	# readable by the unprivileged user
chmod 644 "$img"

if [ "$uid" -eq 0 ]; then
	check "the window is root's, mode 0600 ($(stat -c '%U %a' "$shm"))" \
		[ "$(stat -c '%u %a' "$shm")" = "0 600" ]
	expect_fail "no permission on the window (nobody against root's window)" 4 \
		"target shm:$T_NAME-perm: permission denied" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$FWPUSH" push "$img" --target "$WINDOW" --timeout 1
else
	chmod 000 "$shm"
	# A user whom mode 000 does not stop (CAP_DAC_OVERRIDE) cannot be denied this way.
	[ -r "$shm" ] && skip "uid $uid can still read $shm at mode 000 (CAP_DAC_OVERRIDE)" \
		"and is not root, so cannot switch to a user without it"
	expect_fail "no permission on the window (its owner, uid $uid, at mode 000)" 4 \
		"target shm:$T_NAME-perm: permission denied" \
		"$FWPUSH" push "$img" --target "$WINDOW" --timeout 1
	chmod 600 "$shm"
fi
check "nothing activated by the denied push" [ ! -e "$flash" ]
check "the same push with permission works" "$FWPUSH" push "$img" --target "$WINDOW" -q
check "flash equals the image" cmp -s "$img" "$flash"
stop_bmc
done_testing
