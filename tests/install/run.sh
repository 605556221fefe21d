#!/usr/bin/env bash
# meson install into a staging directory, then what a user of the library does: build a
# program outside the tree against the installed fwpush.pc (shared, then static), push an
# image with it to the installed bmc-sim, and check the flash and the hash. Also: the installed
# headers are the public ones only, libfwpush.so exports only what they declare, and the man
# page is installed (when scdoc was there to build it).
# Usage: run.sh SOURCE_ROOT BUILD_ROOT
FWPUSH=unused
. "$1/tests/integration/lib.sh"
src=$1 build=$2
stage="$T_DIR/stage"

meson install -C "$build" --destdir "$stage" --no-rebuild >"$T_DIR/install.log" 2>&1 ||
	{ not_ok "meson install: $(tail -3 "$T_DIR/install.log")"; done_testing; exit 1; }
pc=$(find "$stage" -name fwpush.pc | head -1)
fwpush=$(find "$stage" -path '*/bin/fwpush' | head -1)
check "fwpush.pc installed" [ -n "$pc" ]
check "the fwpush command installed" [ -x "$fwpush" ]
libdir=$(dirname "$(dirname "$pc")")
headers=$(cd "$stage" && find . -path '*/include/fwpush/*.h' -printf '%f\n' | sort | tr '\n' ' ')
check "the public headers, and only those ($headers)" \
	[ "$headers" = "$(cd "$src/include/fwpush" && ls *.h | sort | tr '\n' ' ')" ]
# Every exported function is declared in a public header, and every public function exported.
exported=$(nm -D --defined-only "$libdir/libfwpush.so" | awk '$2 == "T" { print $3 }' | sort)
# (a static inline function is declared but, by design, not exported)
declared=$(sed -n '/^static/!s/^[a-z].*[ *]\(fwp_[a-z0-9_]*\)(.*/\1/p' "$src"/include/fwpush/*.h | sort -u)
check "libfwpush.so exports exactly the functions the public headers declare" \
	[ "$exported" = "$declared" ]
[ "$exported" = "$declared" ] || diff <(echo "$exported") <(echo "$declared") | head -10
if [ -f "$build/fwpush.1" ]; then
	check "fwpush(1) installed" [ -n "$(find "$stage" -path '*/man1/fwpush.1' | head -1)" ]
fi

export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$stage"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$T_DIR/consumer" "$src/tests/install/consumer.c" \
	$(pkg-config --cflags --libs fwpush) 2>"$T_DIR/cc.log"
check "a program builds against the installed fwpush.pc (shared) $(head -3 "$T_DIR/cc.log")" \
	[ -x "$T_DIR/consumer" ]
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$T_DIR/consumer-static" "$src/tests/install/consumer.c" \
	$(pkg-config --cflags fwpush) "$libdir/libfwpush.a" $(pkg-config --static --libs fwpush | \
	sed 's/-lfwpush//') 2>"$T_DIR/cc.log"
check "and statically, against libfwpush.a $(head -3 "$T_DIR/cc.log")" \
	[ -x "$T_DIR/consumer-static" ]
check "the static one needs no libfwpush.so" sh -c "! ldd '$T_DIR/consumer-static' | grep -q libfwpush"

FWPUSH=$fwpush
flash="$T_DIR/flash.bin"
make_image "$T_DIR/img" $((3 << 20))
start_bmc inst "$flash" --slots 4 --slot-size 64K
want=$(xxhsum -H2 "$T_DIR/img" | cut -d' ' -f1)
for c in consumer consumer-static; do
	out=$(LD_LIBRARY_PATH="$libdir" "$T_DIR/$c" "$T_DIR/img" "$WINDOW"); rc=$?
	check "$c pushes to the installed bmc-sim (exit $rc)" [ "$rc" -eq 0 ]
	check "$c: the hash the BMC verified is the image's ($out)" [ "${out%% *}" = "$want" ]
	check "$c: the flash equals the image" cmp -s "$T_DIR/img" "$flash"
	make_image "$T_DIR/img" $((1 << 20))
	want=$(xxhsum -H2 "$T_DIR/img" | cut -d' ' -f1)
done
done_testing
