#!/usr/bin/env bash
# Two rt-updates of one name at once: one writer per state area. While an activation holds a
# name, another --activate of it (onto its flash or another), a --stage or a stage-and-activate
# of it is refused (exit 4, one line naming the state area) and changes nothing. A
# stage-and-activate holds the name across both, with no gap for another stage (flock_gap.c
# would hold it in one). Then real races, started together onto two flashes: exactly one
# activation runs (the other is refused, or finds the update already consumed), none crashes
# (no exit 139 or 134: sharing the slots, one would restore the other's registers), the one
# that ran restores every processor bit-exact, its flash holds the whole update and the other's
# is untouched. (Two names onto one flash: rt_flash_race.sh.) The hold is a worker that never
# takes the interrupt (--inject block), so these rows need two CPUs; with one this exits 77.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/rt_lib.sh"

rt_need_cpus "an activation held at its rendezvous by a worker that never arrives"
name="$RT_NAME"
state="/dev/shm/fwpush-rt-$name.state"
img="/dev/shm/fwpush-rt-$name.img"
flash="$T_DIR/flash.bin"
flash2="$T_DIR/flash2.bin"
all=$(rt_cpus | paste -sd,)
make_image "$T_DIR/v0" 1000000
make_image "$T_DIR/v1" 3000000
make_image "$T_DIR/v2" 2000000

"$FWPUSH" rt-update "$T_DIR/v0" --name "$name" --flash "$flash" --timeout 5s -q
"$FWPUSH" rt-update "$T_DIR/v0" --name "$name" --flash "$flash2" --timeout 5s -q
check "v0 applied: both flashes exist" sh -c 'cmp -s "$0" "$1" && cmp -s "$0" "$2"' \
	"$T_DIR/v0" "$flash" "$flash2"

# --- An activation that holds the name: everything else on it is refused --------------------
"$FWPUSH" rt-update --stage "$T_DIR/v1" --name "$name" -q
rt_hold "$name" "$flash"

busy="state area $state: in use by another rt-update"
expect_fail "--activate of the same name onto another flash meanwhile: refused" 4 "$busy" \
	"$FWPUSH" rt-update --activate --name "$name" --flash "$flash2" --timeout 5s
expect_fail "--activate of the same name onto the same flash meanwhile: refused" 4 "$busy" \
	"$FWPUSH" rt-update --activate --name "$name" --flash "$flash" --timeout 5s
expect_fail "--stage of the same name meanwhile: refused, names the state area" 4 "$busy" \
	"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name"
check "the refused --stage left the staged update alone (still v1)" cmp -s "$T_DIR/v1" "$img"
expect_fail "stage-and-activate of the same name meanwhile: refused" 4 "$busy" \
	"$FWPUSH" rt-update "$T_DIR/v2" --name "$name" --flash "$flash" --timeout 5s
wait "$hold"; rc=$?
check "the holding activation ended as its blocked worker says: exit 10 (got $rc)" \
	[ "$rc" -eq 10 ]
check "the holding activation: its controller restored bit-exact, nothing applied" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["applied"], d
c = d["cores"][0]
assert c["restored"] and c["registers_checked"] and c["registers_ok"] is True, c
' "$T_DIR/hold.json"
check "after the hold: both flashes are still v0" sh -c 'cmp -s "$0" "$1" && cmp -s "$0" "$2"' \
	"$T_DIR/v0" "$flash" "$flash2"
check "after the hold: v1 still staged, whole" cmp -s "$T_DIR/v1" "$img"

# --- Stage and activate in one command: one hold, no gap another rt-update could stage into ---
# FLOCK_GAP (flock_gap.c) holds the command at a second exclusive flock(), if it makes one, and
# we stage v2 there; with one hold there is no second and v1, the image named, is what applies.
gap="$T_DIR/gap"
"$FWPUSH" rt-update "$T_DIR/v2" --name "$name" --flash "$flash" --timeout 5s -q
check "v2 applied before" cmp -s "$T_DIR/v2" "$flash"
FWPT_FLOCK_GAP="$gap" LD_PRELOAD="$FLOCK_GAP" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$FWPUSH" rt-update "$T_DIR/v1" --name "$name" --flash "$flash" --timeout 5s -q \
	2>"$T_DIR/both.err" &
both=$!
while kill -0 "$both" 2>/dev/null && [ ! -e "$gap" ]; do
	sleep 0.01
done
gapped=no
if [ -e "$gap" ]; then
	gapped=yes
	"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
	rm -f "$gap"
fi
wait "$both"; rc=$?
check "stage-and-activate: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "stage-and-activate: no gap between its stage and its activation (got one: $gapped)" \
	[ "$gapped" = no ]
check "stage-and-activate: the image it named (v1) is what applied" cmp -s "$T_DIR/v1" "$flash"

# --- Races: two started together ---------------------------------------------------------
# no_crash CODE...: no SIGSEGV (139), no SIGABRT (134).
no_crash() {
	local c
	for c; do
		[ "$c" -ne 139 ] && [ "$c" -ne 134 ] || return 1
	done
}

# loser CODE ERR-FILE: a refusal of one line (4: the state area was held) or the
# update found consumed by the winner (8); never a crash.
loser() {
	local lines
	lines=$(wc -l <"$2")
	case "$1" in
	4) [ "$lines" -eq 1 ] && grep -q "state area .*: in use by another rt-update" "$2" ;;
	8) [ "$lines" -eq 1 ] && grep -q "no update staged" "$2" ;;
	*) false ;;
	esac || { echo "       exit $1: $(cat "$2")"; return 1; }
}

refused=0
for i in 1 2 3 4 5 6; do
	v="$T_DIR/v$((i % 2 + 1))"
	"$FWPUSH" rt-update --stage "$v" --name "$name" -q
	cp "$flash" "$T_DIR/flash.before"
	cp "$flash2" "$T_DIR/flash2.before"
	rt_race "same$i" "$name" "$flash" "$name" "$flash2"
	check "race $i, one name: no crash (exits $RA, $RB)" no_crash "$RA" "$RB"
	if [ "$RA" -eq 0 ]; then
		win=a lose=b rl=$RB wf=$flash lf=$flash2 lb="$T_DIR/flash2.before"
	else
		win=b lose=a rl=$RA wf=$flash2 lf=$flash lb="$T_DIR/flash.before"
	fi
	[ "$rl" -eq 4 ] && refused=$((refused + 1))
	check "race $i, one name: exactly one applied (exits $RA, $RB)" \
		[ $(( (RA == 0) + (RB == 0) )) -eq 1 ]
	check "race $i, one name: the other refused or found it consumed" \
		loser "$rl" "$T_DIR/same$i.$lose.err"
	check "race $i, one name: the one that ran restored every processor bit-exact" \
		all_resumed "$T_DIR/same$i.$win.json" "$all"
	check "race $i, one name: the winner's flash is the staged update, whole" cmp -s "$v" "$wf"
	check "race $i, one name: the loser's flash is untouched" cmp -s "$lb" "$lf"
done
echo "# one name: $refused of 6 races overlapped (the loser refused rather than late)"

done_testing
