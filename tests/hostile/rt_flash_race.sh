#!/usr/bin/env bash
# Two rt-updates of different names onto one flash: one writer per flash (the lock
# fwp_flash_open takes). While an activation holds the flash, an activation of another name
# onto it is refused before any processor stops (exit 4, one line naming the flash) and leaves
# no warm start requested. Then real races, started together: each activation applies its
# update whole or is refused naming the flash, none crashes (no exit 139 or 134), the flash holds
# one whole update, never a mix of the two, and whoever applied restored every processor
# bit-exact. The hold is a worker that never takes the interrupt (--inject block), so these rows
# need two CPUs; with one this exits 77.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/rt_lib.sh"

rt_need_cpus "an activation held at its rendezvous by a worker that never arrives"
name="$RT_NAME"
other="$RT_NAME-b"
flash="$T_DIR/flash.bin"
flash2="$T_DIR/flash2.bin"
all=$(rt_cpus | paste -sd,)
trap 'rt_cleanup; rm -f "/dev/shm/fwpush-rt-$other".*; t_cleanup' EXIT
make_image "$T_DIR/v0" 1000000
make_image "$T_DIR/v1" 3000000
make_image "$T_DIR/v2" 2000000

"$FWPUSH" rt-update "$T_DIR/v0" --name "$name" --flash "$flash" --timeout 5s -q
check "v0 applied: the flash exists" cmp -s "$T_DIR/v0" "$flash"

# --- An activation that holds the flash ------------------------------------------------------
"$FWPUSH" rt-update --stage "$T_DIR/v1" --name "$name" -q
"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$other" -q
rt_hold "$name" "$flash"
expect_fail "--activate of another name onto the same flash meanwhile: refused, names the flash" \
	4 "flash $flash: in use by another process" \
	"$FWPUSH" rt-update --activate --name "$other" --flash "$flash" --timeout 5s
expect_fail "that refusal left no warm start requested for $other" 8 "no warm start requested" \
	"$FWPUSH" rt-update --activate --no-warm-start --name "$other" --flash "$flash2" \
	--timeout 5s
wait "$hold"; rc=$?
check "the holding activation ended as its blocked worker says: exit 10 (got $rc)" \
	[ "$rc" -eq 10 ]
check "after the hold: the flash is still v0" cmp -s "$T_DIR/v0" "$flash"
check "after the hold: nothing reached the other flash" [ ! -e "$flash2" ]

# --- Races: two names onto one flash, started together ------------------------------------
# applied_or_busy CODE ERR-FILE: applied, or refused in one line naming the flash.
applied_or_busy() {
	[ "$1" -eq 0 ] && return 0
	[ "$1" -eq 4 ] && [ "$(wc -l <"$2")" -eq 1 ] && grep -q "flash $flash: in use" "$2" && return 0
	echo "       exit $1: $(cat "$2")"
	return 1
}

for i in 1 2 3 4 5 6; do
	"$FWPUSH" rt-update --stage "$T_DIR/v1" --name "$name" -q
	"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$other" -q
	rt_race "two$i" "$name" "$flash" "$other" "$flash"
	check "race $i: no crash (exits $RA, $RB)" \
		sh -c 'for c; do [ "$c" -ne 139 ] && [ "$c" -ne 134 ] || exit 1; done' sh "$RA" "$RB"
	check "race $i: A applied or was refused naming the flash" \
		applied_or_busy "$RA" "$T_DIR/two$i.a.err"
	check "race $i: B applied or was refused naming the flash" \
		applied_or_busy "$RB" "$T_DIR/two$i.b.err"
	if [ "$RA" -eq 0 ] && [ "$RB" -ne 0 ]; then
		check "race $i: the flash is A's update (v1), whole" cmp -s "$T_DIR/v1" "$flash"
	elif [ "$RB" -eq 0 ] && [ "$RA" -ne 0 ]; then
		check "race $i: the flash is B's update (v2), whole" cmp -s "$T_DIR/v2" "$flash"
	else	# both, one after the other
		check "race $i: the flash is one whole update" \
			sh -c 'cmp -s "$0" "$2" || cmp -s "$1" "$2"' "$T_DIR/v1" "$T_DIR/v2" "$flash"
	fi
	for s in a b; do
		if grep -qs '"applied":true' "$T_DIR/two$i.$s.json"; then
			check "race $i: $s restored every processor bit-exact" \
				all_resumed "$T_DIR/two$i.$s.json" "$all"
		fi
	done
done
done_testing
