#!/usr/bin/env bash
# Real processes over a real window and flash file: image sizes around the chunk size, slot
# counts 1, 2 and 4, every push to one running bmc-sim; the flash equals the image every time.
. "$(dirname "$0")/lib.sh"

chunk=65536
flash="$T_DIR/flash.bin"
start_bmc sizes "$flash" --slots 4 --slot-size $chunk

for size in 1 $((chunk - 1)) $chunk $((chunk + 1)) $((chunk * 7 / 2)) $((64 << 20)); do
	img="$T_DIR/img-$size"
	make_image "$img" "$size"
	for slots in 1 2 4; do
		if "$FWPUSH" push "$img" --target "$WINDOW" --slots $slots --chunk-size $chunk \
			-q --timeout 10; then
			check "size $size, $slots slot(s): flash equals image" cmp -s "$img" "$flash"
		else
			not_ok "size $size, $slots slot(s): push failed"
		fi
	done
	rm -f "$img"
done

# The reported hash is the canonical XXH3-128 of the image, as xxhsum -H2 prints it.
img="$T_DIR/img-hash"
make_image "$img" 1000003
hash=$("$FWPUSH" push "$img" --target "$WINDOW" --json | sed -n 's/.*"xxh128":"\([0-9a-f]*\)".*/\1/p')
if command -v xxhsum >/dev/null; then
	check "hash matches xxhsum -H2" [ "$hash" = "$(xxhsum -H2 "$img" | cut -d' ' -f1)" ]
else
	not_ok "xxhsum not installed (tools/deps.sh installs the xxhash package)"
fi
check "--expect-hash with the right hash pushes" \
	"$FWPUSH" push "$img" --target "$WINDOW" -q --expect-hash "$hash"
stop_bmc
check "bmc-sim removed its window on SIGTERM" [ ! -e "/dev/shm/$T_NAME-sizes" ]
done_testing
