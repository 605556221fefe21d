# Shared by the integration tests: unique names per test, a bmc-sim to push to, cleanup, checks.
# Usage: source lib.sh; FWPUSH must name the binary.
set -u
: "${FWPUSH:?FWPUSH must point at the fwpush binary}"
T_NAME="fwpt-$(basename "$0" .sh)-$$"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$T_NAME.XXXXXX")
T_FAILS=0
T_CHECKS=0
BMC_PID=
trap 't_cleanup' EXIT

t_cleanup() {
	[ -n "$BMC_PID" ] && kill -9 "$BMC_PID" 2>/dev/null
	rm -f /dev/shm/"$T_NAME"* /dev/shm/fwpush-rt-"$T_NAME"*	# windows; staged runtime updates
	rm -rf "$T_DIR"
}

ok() { T_CHECKS=$((T_CHECKS + 1)); echo "ok   - $*"; }
not_ok() { T_CHECKS=$((T_CHECKS + 1)); T_FAILS=$((T_FAILS + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# start_bmc WINDOW_SUFFIX FLASH [bmc-sim options]: starts bmc-sim in the background.
start_bmc() {
	local win="shm:$T_NAME-$1" flash=$2; shift 2
	"$FWPUSH" bmc-sim --window "$win" --flash "$flash" --quiet "$@" 2>"$T_DIR/bmc.err" &
	BMC_PID=$!
	WINDOW=$win
}

stop_bmc() {
	[ -n "$BMC_PID" ] || return 0
	kill "$BMC_PID" 2>/dev/null
	wait "$BMC_PID" 2>/dev/null
	BMC_PID=
}

# inactive_bank FLASH: the bank file of an emulated flash that the next image goes to.
inactive_bank() {
	case "$(readlink "$1" 2>/dev/null)" in
	*.a) echo "$1.b" ;;
	*) echo "$1.a" ;;
	esac
}

# make_image PATH SIZE: random bytes.
make_image() {
	head -c "$2" /dev/urandom >"$1"
}

# expect_fail DESCRIPTION CODE PATTERN COMMAND...: exit code and a one-line stderr matching PATTERN.
expect_fail() {
	local what=$1 code=$2 pattern=$3 rc lines; shift 3
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"; rc=$?
	lines=$(wc -l <"$T_DIR/err")
	if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -q -- "$pattern" "$T_DIR/err"; then
		ok "$what (exit $rc: $(cat "$T_DIR/err"))"
	else
		not_ok "$what: want exit $code and one line matching '$pattern', got exit $rc, $lines line(s):"
		sed 's/^/       /' "$T_DIR/err"
	fi
}

done_testing() {
	echo "$((T_CHECKS - T_FAILS)) passed, $T_FAILS failed"
	[ "$T_FAILS" -eq 0 ]
}
