#!/bin/sh
# Checks that data flows one way through the engine's rooms: no #include reaches a higher room.
#   core (0) < transport (1) < host, bmc (2, and neither sees the other) < rt (3) < tools (4)
# A public header include/fwpush/X.h belongs to the room that implements it. tools/ sees only
# include/fwpush/ and its own headers. Prints each violation; exits 1 if there is any.
cd "$(dirname "$0")/.." || exit 1
room() { # room PATH-AS-INCLUDED-OR-FILE: the room's name
	case "$1" in
	*core/*|fwpush/wire.h|fwpush/hash.h|fwpush/parse.h) echo core ;;
	*transport/*|fwpush/pci.h) echo transport ;;
	*host/*|fwpush/push.h) echo host ;;
	*bmc/*|fwpush/bmc.h|fwpush/sign.h) echo bmc ;;
	*rt/*|fwpush/rt.h|fwpush/redfish.h) echo rt ;;
	tools/*) echo tools ;;
	*) echo unknown ;;
	esac
}
level() {
	case "$1" in
	core) echo 0 ;; transport) echo 1 ;; host|bmc) echo 2 ;; rt) echo 3 ;; tools) echo 4 ;;
	*) echo 9 ;;
	esac
}
bad=0
say() { echo "$*"; bad=1; }
for f in $(git ls-files 'engine/*.[ch]' 'tools/*.[ch]' 'include/fwpush/*.h'); do
	from=$(room "${f#include/}")
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		to=$(room "$inc")
		if [ "$from" = tools ]; then
			case "$inc" in
			fwpush/*) ;;
			*/*) say "$f: includes $inc: tools see include/fwpush/ only" ;;
			esac
		elif [ "$(level "$to")" -gt "$(level "$from")" ]; then
			say "$f ($from): includes $inc from a higher room ($to)"
		elif [ "$(level "$to")" = 2 ] && [ "$(level "$from")" = 2 ] && [ "$to" != "$from" ]; then
			say "$f ($from): includes $inc from a sibling room ($to)"
		fi
	done
done
[ "$bad" = 0 ] && echo "rooms: every include goes down"
exit "$bad"
