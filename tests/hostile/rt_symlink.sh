#!/usr/bin/env bash
# What another user of the machine plants in /dev/shm for rt-update, run as root, to write or
# read through: at the state area's path and at the staged update's path, a symbolic link to a
# victim file (planted by an unprivileged user, uid 65534), a dangling one, a hard link, a file
# owned by that user, a file of mode 0666, a FIFO. Each is refused (exit 4, one line naming the
# file and what is wrong) and every victim stays byte for byte as it was. The fetch's .part file
# is never opened in /dev/shm, so a link planted there writes nothing. And the descriptor in the
# state area, whose check value is no MAC: pointed at a file outside /dev/shm, or at another
# name's staged update, and resealed, it is refused before any processor stops. Needs root (the
# attack is on root); exits 77 otherwise.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/rt_lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: runs as uid $(id -u); these rows are an unprivileged user's files against" \
		"rt-update run as root, and need root to run it and setpriv to be that user"
	exit 77
fi
if ! command -v setpriv >/dev/null; then
	echo "SKIP: no setpriv (util-linux) to plant files as an unprivileged user"
	exit 77
fi
name="$RT_NAME"
other="$RT_NAME-b"
state="/dev/shm/fwpush-rt-$name.state"
img="/dev/shm/fwpush-rt-$name.img"
flash="$T_DIR/flash.bin"
victim="/dev/shm/$T_NAME-victim"		# the unprivileged user's file
rootfile="/dev/shm/$T_NAME-rootfile"		# root's own, 0600: only a hard link is wrong
trap 'rt_cleanup; rm -f "/dev/shm/fwpush-rt-$other".*; t_cleanup' EXIT
make_image "$T_DIR/v1" 3000000
make_image "$T_DIR/v2" 2000000
make_image "$T_DIR/victim.orig" 70000
make_image "$T_DIR/rootfile.orig" 50000

# as_user CMD...: runs CMD as uid/gid 65534 with a private umask.
as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'umask 077; "$@"' sh "$@"; }

# fresh: no storage locations for name; the victims as they started.
fresh() {
	rm -f "/dev/shm/fwpush-rt-$name".*
	rm -f "$victim" "$rootfile"
	cp "$T_DIR/victim.orig" "$victim"
	chown 65534:65534 "$victim"
	chmod 0644 "$victim"
	cp "$T_DIR/rootfile.orig" "$rootfile"
	chmod 0600 "$rootfile"
}
intact() { cmp -s "$T_DIR/victim.orig" "$victim" && cmp -s "$T_DIR/rootfile.orig" "$rootfile"; }

stage() { "$FWPUSH" rt-update --stage "$T_DIR/v1" --name "$name" "$@"; }
activate() { "$FWPUSH" rt-update --activate --name "$name" --flash "$flash" --timeout 5s "$@"; }

"$FWPUSH" rt-update "$T_DIR/v2" --name "$name" --flash "$flash" --timeout 5s -q
check "v2 applied: the flash exists" cmp -s "$T_DIR/v2" "$flash"

# --- The state area's path -------------------------------------------------------------------
fresh
as_user ln -s "$victim" "$state"
expect_fail "state area a symbolic link to the user's file: --stage refused" 4 \
	"state area $state: is a symbolic link to $victim; refusing to follow it" stage
expect_fail "state area a symbolic link: --activate refused" 4 \
	"state area $state: is a symbolic link to $victim" activate
expect_fail "state area a symbolic link: stage-and-activate refused" 4 \
	"state area $state: is a symbolic link to $victim" \
	"$FWPUSH" rt-update "$T_DIR/v1" --name "$name" --flash "$flash" --timeout 5s
check "state area a symbolic link: the victim is byte for byte as it was" intact
check "state area a symbolic link: still the user's link" \
	sh -c '[ -L "$0" ] && [ "$(stat -c %u "$0")" -eq 65534 ]' "$state"

fresh
as_user ln -s "$rootfile" "$state"
expect_fail "state area a symbolic link to a file of root's (0600, one link): refused" 4 \
	"state area $state: is a symbolic link to $rootfile; refusing to follow it" stage
check "state area a symbolic link to root's file: that file is byte for byte as it was" intact

fresh
as_user ln -s "/dev/shm/$T_NAME-made" "$state"
expect_fail "state area a dangling symbolic link: refused" 4 \
	"state area $state: is a symbolic link to /dev/shm/$T_NAME-made" stage
check "dangling link: nothing made where it points" [ ! -e "/dev/shm/$T_NAME-made" ]

fresh
ln "$rootfile" "$state"
expect_fail "state area a hard link to a file of root's: refused" 4 \
	"state area $state: has 2 links, not 1" stage
check "state area a hard link: the linked file is byte for byte as it was" intact

fresh
as_user sh -c 'echo theirs >"$0"' "$state"
cp "$state" "$T_DIR/state.before"
expect_fail "state area a file of uid 65534: refused" 4 \
	"state area $state: is owned by uid 65534, not by uid 0" stage
check "state area of uid 65534: their file unchanged" cmp -s "$T_DIR/state.before" "$state"

fresh
cp "$T_DIR/rootfile.orig" "$state"
chmod 0666 "$state"
expect_fail "state area of mode 0666: refused" 4 "state area $state: has mode 0666, not 0600" stage
check "state area of mode 0666: unchanged" cmp -s "$T_DIR/rootfile.orig" "$state"

fresh
as_user mkfifo "$state"
expect_fail "state area a FIFO: refused, no hang" 4 "state area $state: is a FIFO" \
	timeout 20 "$FWPUSH" rt-update --stage "$T_DIR/v1" --name "$name"

# --- The staged update's path ----------------------------------------------------------------
fresh
as_user ln -s "$victim" "$img"
expect_fail "staged update a symbolic link to the user's file: --stage refused" 4 \
	"staged update $img: is a symbolic link to $victim; refusing to follow it" stage
check "staged update a symbolic link: the victim is byte for byte as it was" intact

fresh
as_user ln -s "$victim" "$img.part"
stage -q; rc=$?
check "a link planted at the .part name: the stage goes on (exit $rc)" [ "$rc" -eq 0 ]
check "a link planted at the .part name: the victim is byte for byte as it was" intact
check "a link planted at the .part name: v1 staged" cmp -s "$T_DIR/v1" "$img"

fresh
ln "$rootfile" "$img"
expect_fail "staged update a hard link to a file of root's: refused" 4 \
	"staged update $img: has 2 links, not 1" stage
check "staged update a hard link: the linked file is byte for byte as it was" intact

fresh
as_user cp /dev/null "$img"
expect_fail "staged update a file of uid 65534: refused" 4 \
	"staged update $img: is owned by uid 65534, not by uid 0" stage

fresh
cp "$T_DIR/rootfile.orig" "$img"
chmod 0666 "$img"
expect_fail "staged update of mode 0666: refused" 4 "staged update $img: has mode 0666, not 0600" \
	stage
check "staged update of mode 0666: unchanged" cmp -s "$T_DIR/rootfile.orig" "$img"

# Staged, then the file under the descriptor replaced by a link (activation reads through it).
fresh
stage -q
cp "$T_DIR/v1" "$T_DIR/v1.copy"
rm -f "$img"
ln -s "$T_DIR/v1.copy" "$img"
expect_fail "staged update replaced by a link before --activate: refused" 4 \
	"staged update $img: is a symbolic link to $T_DIR/v1.copy" activate
check "refused activation: the flash is still v2" cmp -s "$T_DIR/v2" "$flash"

# --- The descriptor: a check value, not a MAC --------------------------------------------------
# point_desc PATH: rewrites the descriptor's path in the state area and reseals it with
# XXH3-64, as anyone who can write the state area can (fwp_rt_desc in rt_state.h: the header's
# 40 bytes, then path[232], size, hash, signature[64], has_signature, reserved, check).
point_desc() {
	python3 - "$state" "$1" <<'EOF'
import ctypes, ctypes.util, struct, sys
lib = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
lib.XXH3_64bits.restype = ctypes.c_uint64
lib.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
DESC, CHECK = 40, 40 + 232 + 8 + 16 + 64 + 4 + 4
with open(sys.argv[1], "r+b") as f:
    h = bytearray(f.read(4096))
    (check,) = struct.unpack_from("<Q", h, CHECK)
    assert check == lib.XXH3_64bits(bytes(h[DESC:CHECK]), CHECK - DESC), "layout or hash moved"
    h[DESC:DESC + 232] = sys.argv[2].encode().ljust(232, b"\0")
    struct.pack_into("<Q", h, CHECK, lib.XXH3_64bits(bytes(h[DESC:CHECK]), CHECK - DESC))
    f.seek(0)
    f.write(h)
EOF
}

fresh
"$FWPUSH" rt-update --stage "$T_DIR/v1" --name "$name" -q
cp "$T_DIR/v1" "$T_DIR/elsewhere"
check "descriptor resealed to point at $T_DIR/elsewhere" point_desc "$T_DIR/elsewhere"
expect_fail "descriptor pointing outside /dev/shm: refused" 4 \
	"its descriptor points at $T_DIR/elsewhere, not at $img" activate
check "descriptor pointing outside: the flash is still v2" cmp -s "$T_DIR/v2" "$flash"

"$FWPUSH" rt-update --stage "$T_DIR/v1" --name "$other" -q
check "descriptor resealed to point at the staged update of $other" \
	point_desc "/dev/shm/fwpush-rt-$other.img"
expect_fail "descriptor pointing at another name's staged update: refused" 4 \
	"its descriptor points at /dev/shm/fwpush-rt-$other.img, not at $img" activate
check "descriptor pointing at another name's: the flash is still v2" cmp -s "$T_DIR/v2" "$flash"

# And with nothing planted, the same name stages and activates.
fresh
"$FWPUSH" rt-update "$T_DIR/v1" --name "$name" --flash "$flash" --timeout 5s -q; rc=$?
check "nothing planted: staged and applied (exit $rc)" [ "$rc" -eq 0 ]
check "nothing planted: v1 is active" cmp -s "$T_DIR/v1" "$flash"
check "nothing planted: state area and update are root's, 0600, one link" sh -c '
for f; do [ "$(stat -c "%u %a %h %F" "$f")" = "0 600 1 regular file" ] || exit 1; done' \
	sh "$state" "$img"
done_testing
