#!/usr/bin/env bash
# /dev/shm full (issue 12): any local user can fill it. A window's pages were allocated only
# when first touched, so a push into a window on a full /dev/shm took SIGBUS and the host died
# (exit 135). Now bmc-sim allocates its whole window when it creates it (a full /dev/shm then
# fails bmc-sim at start, naming the cause), and a host whose window cannot get a page (a
# window with holes, made by another BMC) exits 4 naming the full filesystem. Runs in a private
# mount namespace on a small tmpfs of its own, so the machine's /dev/shm is never filled.
if [ -z "${FWPT_IN_NS:-}" ]; then
	if ! unshare -m true 2>/dev/null; then
		echo "SKIP: cannot make a mount namespace (unshare -m): needs root or CAP_SYS_ADMIN"
		exit 77
	fi
	FWPT_IN_NS=1 exec unshare -m bash "$0" "$@"
fi
if ! why=$(mount -t tmpfs -o size=3M fwpush-test /dev/shm 2>&1); then
	echo "SKIP: cannot mount a tmpfs on a private /dev/shm (mount: $why)"
	exit 77
fi
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/host_lib.sh"

flash="$T_DIR/flash.bin"
img="$T_DIR/img"
make_image "$img" $((1 << 20))
fill() { head -c 8M /dev/zero >"/dev/shm/$T_NAME-filler" 2>/dev/null; }
unfill() { rm -f "/dev/shm/$T_NAME-filler"; }

# Filled after bmc-sim made its window: the window has its pages, the push goes in.
start_bmc a "$flash" --slots 4 --slot-size 256K
for _ in $(seq 200); do [ -s "/dev/shm/$T_NAME-a" ] && break; sleep 0.01; done
sleep 0.1
fill
check "/dev/shm is full" [ "$(df --output=avail /dev/shm | tail -1)" -eq 0 ]
timeout -s KILL 20 "$FWPUSH" push "$img" --target "$WINDOW" --timeout 5 -q 2>"$T_DIR/err"
rc=$?
check "/dev/shm filled after bmc-sim started: the push still goes in (exit $rc)" [ "$rc" -eq 0 ]
check "and the flash is the image" cmp -s "$img" "$flash"

# A window with holes (as another BMC may make it), on a full /dev/shm: exit 4, its line.
unfill
punch=$((1 << 20))
fallocate -p -o 4096 -l $punch "/dev/shm/$T_NAME-a"
fill
timed "a window with holes on a full /dev/shm: exit 4, never SIGBUS" 3000 4 \
	"target $WINDOW: a page of the window could not be allocated: the filesystem behind it" \
	"$FWPUSH" push "$img" --target "$WINDOW" --timeout 5
stop_bmc
unfill

# Full before bmc-sim starts: bmc-sim says so at once, and no window is left behind.
fill
timeout -s KILL 20 "$FWPUSH" bmc-sim --window "shm:$T_NAME-c" --flash "$T_DIR/flash-c" --quiet \
	2>"$T_DIR/err"
rc=$?
check "bmc-sim on a full /dev/shm: refused at start (exit $rc)" [ "$rc" -ge 1 -a "$rc" -lt 124 ]
check "naming the cause: $(cat "$T_DIR/err")" \
	grep -q "target shm:$T_NAME-c: No space left on device" "$T_DIR/err"
check "no window left behind" [ ! -e "/dev/shm/$T_NAME-c" ]
unfill
done_testing
