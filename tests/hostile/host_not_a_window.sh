#!/usr/bin/env bash
# What sits at a target's or an image's name may be anything (issue 12). A FIFO as the shm:
# target waited out the timeout and blamed bmc-sim; a directory was called a malformed URI; a
# FIFO as the image hung `fwpush push` forever in open(). Now each is refused at once, with a
# line that names what is there.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/host_lib.sh"

img="$T_DIR/img"
make_image "$img" 100000
shm=/dev/shm/$T_NAME

mkfifo "$shm-fifo"
timed "FIFO as the target: exit 4 at once" 1000 4 \
	"target shm:$T_NAME-fifo: $shm-fifo is a FIFO, not a window" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-fifo" --timeout 5
mkdir "$shm-dir"
timed "directory as the target: exit 4 at once" 1000 4 \
	"target shm:$T_NAME-dir: $shm-dir is a directory, not a window" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-dir" --timeout 5
ln -s "$img" "$shm-link"
timed "symbolic link as the target: exit 4 at once, not followed" 1000 4 \
	"target shm:$T_NAME-link: $shm-link is a symbolic link, not a window" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-link" --timeout 5
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$shm-sock"
timed "socket as the target: exit 4 at once" 1000 4 \
	"target shm:$T_NAME-sock: $shm-sock is a socket, not a window" \
	"$FWPUSH" push "$img" --target "shm:$T_NAME-sock" --timeout 5
check "the image behind the link is untouched" cmp -s "$img" "$shm-link"

mkfifo "$T_DIR/fifo-image"
timed "FIFO as the image: exit 3 at once, no hang" 1000 3 \
	"image $T_DIR/fifo-image: is a FIFO, not a regular file" \
	"$FWPUSH" push "$T_DIR/fifo-image" --target "shm:$T_NAME-none" --timeout 5
timed "character device as the image: exit 3" 1000 3 \
	"image /dev/null: is a character device, not a regular file" \
	"$FWPUSH" push /dev/null --target "shm:$T_NAME-none" --timeout 5
# The BMC's side of the same: bmc-sim on a name some other file holds leaves it alone, and says so.
for kind in fifo dir; do
	expect_fail "bmc-sim on a $kind at its window's name: exit 4, named" 4 \
		"target shm:$T_NAME-$kind: its name is taken by something that is not a window" \
		"$FWPUSH" bmc-sim --window "shm:$T_NAME-$kind" --flash "$T_DIR/flash-$kind"
done
check "and the FIFO is left where it was" test -p "$shm-fifo"
rm -rf "$shm-fifo" "$shm-dir" "$shm-link" "$shm-sock"
done_testing
