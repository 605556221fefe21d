#!/usr/bin/env bash
# Delta flash (PROTOCOL.md 14): fwpush push --delta sends only the chunks that differ from the
# BMC's active image, the rest as KEEP; the flash equals the image byte for byte whether blocks
# changed, stayed, or the short last block did either, and whether the image grew or shrank.
# With the NOR model, a delta push into a bank that holds the old image costs a fraction of a
# full one (the bench measures the ratio; here only a loose bound).
. "$(dirname "$0")/lib.sh"

B=65536
flash="$T_DIR/flash"
# patch IMG OFFSET: a few bytes of IMG changed at OFFSET
patch() { printf 'delta!' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
chunks() { sed -n 's/.*"chunks":\([0-9]*\).*/\1/p' "$T_DIR/out"; }
secs() { sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$T_DIR/out"; }
push() { "$FWPUSH" push "$@" --target "$WINDOW" --json >"$T_DIR/out" 2>"$T_DIR/err"; }

start_bmc d "$flash" --slots 4 --slot-size 64K
make_image "$T_DIR/v1" $((20 * B + 1000))		# 21 blocks, the last one short
push "$T_DIR/v1"
check "v1: a full push" cmp -s "$T_DIR/v1" "$flash"
cp "$T_DIR/v1" "$T_DIR/v2"
patch "$T_DIR/v2" $((3 * B + 10))
patch "$T_DIR/v2" $((12 * B - 3))			# across blocks 11 and 12
push "$T_DIR/v2" --delta; rc=$?
check "v2 --delta (blocks 3, 11, 12 changed; exit $rc): 3 DATA chunks of 21 ($(chunks))" \
	[ "$rc" -eq 0 ] && [ "$(chunks)" = 3 ]
check "v2: the flash equals v2 byte for byte" cmp -s "$T_DIR/v2" "$flash"
cp "$T_DIR/v2" "$T_DIR/v3"
patch "$T_DIR/v3" $((20 * B + 900))
push "$T_DIR/v3" --delta
check "v3 --delta (the short last block changed): 1 DATA chunk ($(chunks))" [ "$(chunks)" = 1 ]
check "v3: the flash equals v3 byte for byte" cmp -s "$T_DIR/v3" "$flash"
push "$T_DIR/v3" --delta
check "v3 again --delta: nothing but KEEP ($(chunks) DATA)" [ "$(chunks)" = 0 ]
check "v3 again: the flash equals v3" cmp -s "$T_DIR/v3" "$flash"
head -c $((10 * B + 500)) "$T_DIR/v3" >"$T_DIR/v4"	# shorter: a new short last block
push "$T_DIR/v4" --delta
check "v4 --delta (cut to 10 blocks + 500 bytes): 1 DATA chunk ($(chunks))" [ "$(chunks)" = 1 ]
check "v4: the flash equals v4 byte for byte" cmp -s "$T_DIR/v4" "$flash"
cat "$T_DIR/v4" "$T_DIR/v1" >"$T_DIR/v5"			# longer than the active image
push "$T_DIR/v5" --delta
check "v5 --delta (grown past the active image): 10 KEEP, 21 DATA ($(chunks))" \
	[ "$(chunks)" = 21 ]
check "v5: the flash equals v5 byte for byte" cmp -s "$T_DIR/v5" "$flash"
push "$T_DIR/v5" --delta --chunk-size 4096
check "--delta with chunks smaller than a block: every chunk is DATA ($(chunks))" \
	[ "$(chunks)" = $(( ($(stat -c %s "$T_DIR/v5") + 4095) / 4096 )) ]
check "and the flash equals v5" cmp -s "$T_DIR/v5" "$flash"
cp "$T_DIR/v5" "$T_DIR/v6"
patch "$T_DIR/v6" $((7 * B + 1))
push "$T_DIR/v6" --delta --resume --inject kill:$((7 * B)) 2>/dev/null; rc=$?
check "v6 --delta --resume, killed at its one DATA (exit $rc)" [ "$rc" -eq 137 ]
push "$T_DIR/v6" --delta --resume
from=$(sed -n 's/.*"resumed_from":\([0-9]*\).*/\1/p' "$T_DIR/out")
check "v6 resumed after the 7 KEEPs ($from bytes held), 1 DATA ($(chunks))" \
	[ "$from" = $((7 * B)) ] && [ "$(chunks)" = 1 ]
check "v6: the flash equals v6 byte for byte" cmp -s "$T_DIR/v6" "$flash"
stop_bmc

# NOR: 32 sectors x 16 ms erase + 2 MiB at 20 MB/s (scale 0.1): ~0.61 s of part time in full.
start_bmc n "$T_DIR/nor" --slots 4 --slot-size 64K --flash-model nor:scale=0.1
make_image "$T_DIR/n1" $((32 * B))
push "$T_DIR/n1"; full=$(secs)
push "$T_DIR/n1"			# both banks hold n1 now
cp "$T_DIR/n1" "$T_DIR/n2"
for k in 4 17 29; do patch "$T_DIR/n2" $((k * B + 100)); done
push "$T_DIR/n2" --delta; delta=$(secs)
check "NOR: n2 --delta (3 of 32 sectors changed) took $delta s, a full push $full s (< 0.35x)" \
	python3 -c "import sys; sys.exit(0 if float('$delta') < 0.35 * float('$full') else 1)"
check "NOR: the flash equals n2 byte for byte" cmp -s "$T_DIR/n2" "$T_DIR/nor"
done_testing
