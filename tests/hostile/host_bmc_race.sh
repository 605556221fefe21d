#!/usr/bin/env bash
# Many bmc-sims started at once on one name (issue 12). Before, one that came while another was
# between creating its window and locking it took that window for a dead BMC's, deleted it and
# served its own: two BMCs "served" one name, and stopping the first deleted the second's live
# window. Now creating and owning are one step: exactly one serves, the others exit 4, and the
# winner's window outlives them. A preload (built here when a compiler is at hand) widens the
# gap before each BMC lock to 100 ms, which makes the old race certain rather than rare.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/host_lib.sh"

img="$T_DIR/img"
make_image "$img" 300000
name="$T_NAME-race"

preload=
cat >"$T_DIR/slow_lock.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

/* Every F_OFD_SETLK of byte 0 (the BMC's lock on a window) waits 100 ms first. */
static int slow(const char *name, int fd, int cmd, void *arg)
{
	int (*real)(int, int, ...) = (int (*)(int, int, ...))dlsym(RTLD_NEXT, name);

	if (cmd == F_OFD_SETLK && ((struct flock *)arg)->l_start == 0)
		usleep(100000);
	return real(fd, cmd, arg);
}

#define WRAP(f) int f(int fd, int cmd, ...) \
	{ va_list ap; void *arg; va_start(ap, cmd); arg = va_arg(ap, void *); va_end(ap); \
	  return slow(#f, fd, cmd, arg); }
WRAP(fcntl)
WRAP(fcntl64)
C
if "${CC:-cc}" -shared -fPIC -o "$T_DIR/slow_lock.so" "$T_DIR/slow_lock.c" -ldl \
	2>"$T_DIR/cc.err"; then
	preload=$T_DIR/slow_lock.so
else
	echo "# no compiler for the preload ($(head -1 "$T_DIR/cc.err")): racing without it"
fi

# round R [preload]: 8 bmc-sims at once on shm:$name.
round() {
	local r=$1 pre=$2 k alive=0 losers=0 survivor= pids=()
	for k in 1 2 3 4 5 6 7 8; do
		LD_PRELOAD=$pre ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
			"$FWPUSH" bmc-sim --window "shm:$name" --flash "$T_DIR/flash$k" --quiet \
			2>"$T_DIR/err$k" &
		pids[k]=$!
	done
	# The losers give up on their own; wait for them (at most 10 s).
	for _ in $(seq 200); do
		alive=0
		for k in 1 2 3 4 5 6 7 8; do kill -0 "${pids[k]}" 2>/dev/null && alive=$((alive + 1)); done
		[ "$alive" -le 1 ] && break
		sleep 0.05
	done
	sleep 0.3	# a second winner, were there one, would still be up
	for k in 1 2 3 4 5 6 7 8; do
		if kill -0 "${pids[k]}" 2>/dev/null; then
			survivor="$survivor $k"
		else
			wait "${pids[k]}"
			[ $? -eq 4 ] && grep -q "target shm:$name: another BMC already serves it" \
				"$T_DIR/err$k" && losers=$((losers + 1))
		fi
	done
	check "round $r: exactly one bmc-sim serves (survivors:${survivor:- none})" \
		[ "$(echo $survivor | wc -w)" -eq 1 ]
	check "round $r: the 7 others exit 4, 'another BMC already serves it' ($losers did)" \
		[ "$losers" -eq 7 ]
	k=${survivor# }
	k=${k%% *}
	if [ -n "$k" ]; then
		check "round $r: the survivor's window is there after the losers left" \
			[ -f "/dev/shm/$name" ]
		check "round $r: and a push through it reaches the survivor's flash" sh -c \
			'"$1" push "$2" --target "shm:$3" -q --timeout 5 && cmp -s "$2" "$4"' _ \
			"$FWPUSH" "$img" "$name" "$T_DIR/flash$k"
	fi
	for k in 1 2 3 4 5 6 7 8; do kill "${pids[k]}" 2>/dev/null; done
	wait
	check "round $r: once all have stopped, the window is gone" [ ! -e "/dev/shm/$name" ]
	rm -f "$T_DIR"/flash* /dev/shm/"$name"
}

if [ -n "$preload" ]; then
	round 1 "$preload"
	round 2 "$preload"
fi
for r in 3 4 5; do round "$r" ""; done

# A BMC removes only the window it still owns: here its name was taken from under it (rm) and
# given to another BMC's window, which must outlive the first BMC's exit.
"$FWPUSH" bmc-sim --window "shm:$name" --flash "$T_DIR/flash1" --quiet &
first=$!
for _ in $(seq 200); do [ -s "/dev/shm/$name" ] && break; sleep 0.01; done
rm -f "/dev/shm/$name"
"$FWPUSH" bmc-sim --window "shm:$name" --flash "$T_DIR/flash2" --quiet &
second=$!
for _ in $(seq 200); do [ -s "/dev/shm/$name" ] && break; sleep 0.01; done
kill $first; wait $first
check "a BMC whose name was given to another leaves that window alone on exit" \
	[ -f "/dev/shm/$name" ]
check "and the other BMC still serves it" \
	"$FWPUSH" push "$img" --target "shm:$name" -q --timeout 5
kill $second; wait $second
check "which it removes on its own exit" [ ! -e "/dev/shm/$name" ]
rm -f "$T_DIR"/flash*

# A window left by a BMC that died is taken over, as before.
"$FWPUSH" bmc-sim --window "shm:$name" --flash "$T_DIR/flash1" --quiet &
pid=$!
for _ in $(seq 200); do [ -s "/dev/shm/$name" ] && break; sleep 0.01; done
kill -9 $pid; wait $pid 2>/dev/null
check "a dead BMC's window is left behind" [ -e "/dev/shm/$name" ]
"$FWPUSH" bmc-sim --window "shm:$name" --flash "$T_DIR/flash2" --quiet 2>"$T_DIR/bmc.err" &
BMC_PID=$!
check "and the next bmc-sim takes it over" \
	"$FWPUSH" push "$img" --target "shm:$name" -q --timeout 5
check "its flash holds the image" cmp -s "$img" "$T_DIR/flash2"
done_testing
