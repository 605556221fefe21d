#!/usr/bin/env bash
# The runtime update's rows that need a worker beside the controller, so two CPUs: a corrupted
# saved XSAVE area and a corrupted saved general register (exit 9, naming the processor, which
# is reported not restored and not checked; nothing applied), a processor that never arrives
# (exit 10), and --cpus subsets (only the CPUs named take part, in the order named). With fewer
# than two CPUs it exits 77, which meson shows as SKIP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rt_lib.sh"

rt_need_cpus "the controller and a worker to corrupt, block or leave out"
flash="$T_DIR/flash.bin"
name="$RT_NAME"
cpu0=$(rt_cpus | sed -n 1p)
cpu1=$(rt_cpus | sed -n 2p)
all=$(rt_cpus | paste -sd,)
make_image "$T_DIR/v1" 3000000
make_image "$T_DIR/v2" 2000000

rt() { "$FWPUSH" rt-update --name "$name" --flash "$flash" --json --timeout 5s "$@" \
	>"$T_DIR/rt.json" 2>"$T_DIR/rt.err"; }

rt "$T_DIR/v1"; rc=$?
check "v1 applied on all $ncpu CPUs (exit $rc)" [ "$rc" -eq 0 ]
check "v1 applied: every processor bit-exact" all_resumed "$T_DIR/rt.json" "$all"

# parked_json: the processor with the bad slot is neither restored nor checked, and says so;
# every other one resumed bit-exact.
parked_json() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bad = int(sys.argv[2])
assert not d["applied"], d
for c in d["cores"]:
    if c["cpu"] == bad:
        assert c["arrived"] and not c["restored"], c
        assert c["registers_checked"] is False and c["registers_ok"] is None, c
    else:
        assert c["restored"] and c["registers_checked"] and c["registers_ok"] is True, c
' "$T_DIR/out" "$1" || { echo "       $(cat "$T_DIR/out")"; return 1; }
}

"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
expect_fail "corrupted saved XSAVE area: detected, names the processor" 9 \
	"cpu $cpu1: saved state failed its integrity check" \
	"$FWPUSH" rt-update --activate --json --timeout 5s --inject corrupt-state:1 --name "$name" \
	--flash "$flash"
check "corrupted XSAVE area: cpu $cpu1 not restored, not checked; the rest bit-exact" \
	parked_json "$cpu1"
check "corrupted XSAVE area: flash still v1" cmp -s "$T_DIR/v1" "$flash"

expect_fail "corrupted saved general register: detected, names the processor" 9 \
	"cpu $cpu1: saved state failed its integrity check" \
	"$FWPUSH" rt-update --activate --json --timeout 5s --inject corrupt-regs:1 --name "$name" \
	--flash "$flash"
check "corrupted general register: cpu $cpu1 not restored, not checked; the rest bit-exact" \
	parked_json "$cpu1"
check "corrupted general register: flash still v1" cmp -s "$T_DIR/v1" "$flash"

expect_fail "a processor that never arrives: rendezvous timeout" 10 \
	"cpu $cpu1 did not reach the rendezvous" \
	"$FWPUSH" rt-update --activate --inject block:1 --timeout 200ms --name "$name" \
	--flash "$flash"
check "blocked processor: flash still v1" cmp -s "$T_DIR/v1" "$flash"

# --cpus: only the CPUs named take part, the first as the controller.
rt --activate --cpus "$cpu1"; rc=$?
check "--cpus $cpu1: applied (exit $rc)" [ "$rc" -eq 0 ]
check "--cpus $cpu1: cpu $cpu1 alone took part, bit-exact" all_resumed "$T_DIR/rt.json" "$cpu1"
check "--cpus $cpu1: v2 is active" cmp -s "$T_DIR/v2" "$flash"
"$FWPUSH" rt-update --stage "$T_DIR/v1" --name "$name" -q
rt --activate --cpus "$cpu1,$cpu0"; rc=$?
check "--cpus $cpu1,$cpu0: applied (exit $rc)" [ "$rc" -eq 0 ]
check "--cpus $cpu1,$cpu0: those two in that order (cpu $cpu1 the controller), bit-exact" \
	all_resumed "$T_DIR/rt.json" "$cpu1,$cpu0"
check "--cpus $cpu1,$cpu0: v1 is active" cmp -s "$T_DIR/v1" "$flash"
done_testing
