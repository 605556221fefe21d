# Shared by the rt-update tests (sourced after lib.sh): storage names, a cleanup, the JSON checks.
RT_NAME="$T_NAME"
RT_SRV=
trap 'rt_cleanup; t_cleanup' EXIT
rt_cleanup() {
	[ -z "$RT_SRV" ] || kill "$RT_SRV" 2>/dev/null
	rm -f "/dev/shm/fwpush-rt-$RT_NAME".*
}

# rt_cpus: the CPUs this process may use, in order, one per line.
rt_cpus() {
	python3 -c 'import os; print("\n".join(map(str, sorted(os.sched_getaffinity(0)))))'
}

# rt_need_cpus WHY: exits 77 (SKIP) saying WHY the test needs two CPUs when it has fewer;
# else sets ncpu.
rt_need_cpus() {
	ncpu=$(rt_cpus | wc -l)
	if [ "$ncpu" -lt 2 ]; then
		echo "SKIP: this process may use $ncpu CPU ($(rt_cpus | paste -sd,)); these rows need 2: $1"
		exit 77
	fi
}

# rt_race TAG NAME_A FLASH_A NAME_B FLASH_B: two activations started together; their exit
# codes in RA and RB, their JSON and stderr in $T_DIR/TAG.{a,b}.{json,err}.
rt_race() {
	"$FWPUSH" rt-update --activate --name "$2" --flash "$3" --json --timeout 5s \
		>"$T_DIR/$1.a.json" 2>"$T_DIR/$1.a.err" &
	local a=$!
	"$FWPUSH" rt-update --activate --name "$4" --flash "$5" --json --timeout 5s \
		>"$T_DIR/$1.b.json" 2>"$T_DIR/$1.b.err" &
	local b=$!
	wait "$a"; RA=$?
	wait "$b"; RB=$?
}

# all_resumed JSON-FILE CPU,CPU,...: exactly those processors, in that order, took part; each
# arrived and was restored; each one's registers were checked after the resume and came back
# bit-exact: every worker's and the controller's (this build checks the controller too). A
# registers_ok without a check behind it (not null where registers_checked is false) fails.
all_resumed() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
want = [int(c) for c in sys.argv[2].split(",")]
cores = d["cores"]
assert [c["cpu"] for c in cores] == want, ("processors", [c["cpu"] for c in cores], want)
for i, c in enumerate(cores):
    who = "controller" if i == 0 else "worker"
    assert c["arrived"] and c["restored"], (who, c)
    assert c["registers_ok"] is None or c["registers_checked"], ("a claim with no check", c)
    assert c["registers_checked"], (who, "registers not checked", c)
    assert c["registers_ok"] is True, (who, "registers differ", c)
' "$1" "$2" || { echo "       $(cat "$1")"; return 1; }
}

# rt_start_server [--tls CERT KEY]: our own HTTP(S) server on 127.0.0.1 serving T_DIR; sets PORT.
rt_start_server() {
	exec 3< <(exec python3 "$(dirname "$0")/http_server.py" "$T_DIR" --lifetime 120 "$@" \
		2>"$T_DIR/server.err")
	RT_SRV=$!
	read -r PORT <&3
}

# rt_hold NAME FLASH: an activation of NAME onto FLASH in the background ($hold; its JSON and
# stderr in $T_DIR/hold.json and hold.err), held at its rendezvous by a worker that never takes
# the interrupt (--inject block:1, 4 s), once its processors run: it has every thread, so it is
# past the state area and the flash.
rt_hold() {
	"$FWPUSH" rt-update --activate --name "$1" --flash "$2" --json --timeout 4s \
		--inject block:1 >"$T_DIR/hold.json" 2>"$T_DIR/hold.err" &
	hold=$!
	for _ in $(seq 400); do
		[ "$(ls "/proc/$hold/task" 2>/dev/null | wc -l)" -ge "$ncpu" ] && break
		sleep 0.01
	done
	check "the holding activation started its $ncpu processors" \
		[ "$(ls "/proc/$hold/task" 2>/dev/null | wc -l)" -ge "$ncpu" ]
}
