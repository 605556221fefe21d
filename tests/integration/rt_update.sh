#!/usr/bin/env bash
# The runtime update on every available CPU: applied and bit-exact on the happy path; nothing
# applied (and a clean resume) without a warm start, without a staged update, with a corrupted
# update, with a corrupted saved state, and with a processor that never arrives; URL sources.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
name="$T_NAME"
srv=
trap 'fwpush_rt_clean; t_cleanup' EXIT
fwpush_rt_clean() {
	[ -z "$srv" ] || kill "$srv" 2>/dev/null
	rm -f "/dev/shm/fwpush-rt-$name".*
}
ncpu=$(nproc)
make_image "$T_DIR/v1" 3000000
make_image "$T_DIR/v2" 2000000

# all_resumed JSON-FILE: every processor arrived, was restored, registers bit-exact.
all_resumed() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["cores"]) == int(sys.argv[2]), d
assert all(c["arrived"] and c["restored"] and c["registers_ok"] for c in d["cores"]), d
' "$1" "$ncpu"
}

# A roomy rendezvous timeout: CI machines run other tests beside this one.
rt() { "$FWPUSH" rt-update --name "$name" --flash "$flash" --json --timeout 5s "$@" \
	>"$T_DIR/rt.json" 2>"$T_DIR/rt.err"; }

rt "$T_DIR/v1"; rc=$?
check "happy path on all $ncpu CPUs: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "happy path: every processor restored bit-exact" all_resumed "$T_DIR/rt.json"
check "happy path: the update is the active image" cmp -s "$T_DIR/v1" "$flash"
check "happy path: outcome says applied" grep -q '"applied":true' "$T_DIR/rt.json"

expect_fail "activate again: the update was consumed" 8 "no update staged" \
	"$FWPUSH" rt-update --activate --timeout 5s --name "$name" --flash "$flash"

"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
expect_fail "no warm start requested: nothing applied" 8 "no warm start requested" \
	"$FWPUSH" rt-update --activate --timeout 5s --no-warm-start --name "$name" --flash "$flash"
check "no warm start: flash still v1" cmp -s "$T_DIR/v1" "$flash"

expect_fail "corrupted staged update: refused" 7 "failed its integrity check" \
	"$FWPUSH" rt-update --activate --timeout 5s --inject corrupt-update --name "$name" --flash "$flash"
check "corrupted update: flash still v1" cmp -s "$T_DIR/v1" "$flash"

"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
if [ "$ncpu" -ge 2 ]; then
	cpu1=$(python3 -c 'import os; print(sorted(os.sched_getaffinity(0))[1])')
	expect_fail "corrupted saved state: detected, names the processor" 9 \
		"cpu $cpu1: saved state failed its integrity check" \
		"$FWPUSH" rt-update --activate --timeout 5s --inject corrupt-state:1 --name "$name" --flash "$flash"
	check "corrupted state: flash still v1" cmp -s "$T_DIR/v1" "$flash"
	expect_fail "a processor that never arrives: rendezvous timeout" 10 \
		"cpu $cpu1 did not reach the rendezvous" \
		"$FWPUSH" rt-update --activate --inject block:1 --timeout 200ms --name "$name" \
		--flash "$flash"
	check "blocked processor: flash still v1" cmp -s "$T_DIR/v1" "$flash"
else
	echo "skip - one CPU: no second processor to corrupt or block"
fi

# Staged by one process, activated by the next, through the defined storage locations.
check "stage in one process" "$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
rt --activate; rc=$?
check "activate in the next: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "activate in the next: every processor bit-exact" all_resumed "$T_DIR/rt.json"
check "activate in the next: v2 is active" cmp -s "$T_DIR/v2" "$flash"

# URL sources from a server of our own on 127.0.0.1.
exec 3< <(exec python3 "$(dirname "$0")/http_server.py" "$T_DIR" --lifetime 60 2>/dev/null)
srv=$!
read -r port <&3
rt "http://127.0.0.1:$port/v1"; rc=$?
check "URL source: staged and applied (exit $rc)" [ "$rc" -eq 0 ]
check "URL source: v1 is active again" cmp -s "$T_DIR/v1" "$flash"
expect_fail "URL 404" 3 "HTTP 404" \
	"$FWPUSH" rt-update --stage "http://127.0.0.1:$port/missing" --name "$name"
expect_fail "URL truncated download" 3 "partial" \
	"$FWPUSH" rt-update --stage "http://127.0.0.1:$port/truncated/v2" --name "$name"
expect_fail "missing source file" 3 "No such file" \
	"$FWPUSH" rt-update --stage "$T_DIR/nope" --name "$name"
expect_fail "--expect-hash mismatch" 7 "differs from the expected hash" \
	"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" \
	--expect-hash 00000000000000000000000000000000
check "nothing applied by the failed stagings" cmp -s "$T_DIR/v1" "$flash"

# Signature where configured: with --pubkey only an update its signature verifies is applied.
( cd "$T_DIR" && "$FWPUSH" keygen --out key >/dev/null && "$FWPUSH" keygen --out other >/dev/null &&
  "$FWPUSH" sign v2 --key key >/dev/null && "$FWPUSH" sign v2 --key other --out v2.bad >/dev/null )
"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
expect_fail "unsigned update with --pubkey: refused" 7 "unsigned or its signature does not verify" \
	"$FWPUSH" rt-update --activate --timeout 5s --pubkey "$T_DIR/key.pub" --name "$name" --flash "$flash"
"$FWPUSH" rt-update --stage "$T_DIR/v2" --signature "$T_DIR/v2.bad" --name "$name" -q
expect_fail "update signed by another key: refused" 7 "unsigned or its signature does not verify" \
	"$FWPUSH" rt-update --activate --timeout 5s --pubkey "$T_DIR/key.pub" --name "$name" --flash "$flash"
check "refused updates: flash still v1" cmp -s "$T_DIR/v1" "$flash"
"$FWPUSH" rt-update --stage "$T_DIR/v2" --signature "$T_DIR/v2.sig" --name "$name" -q
rt --activate --pubkey "$T_DIR/key.pub"; rc=$?
check "signed update with --pubkey: applied (exit $rc)" [ "$rc" -eq 0 ]
check "signed update: v2 is active" \
	sh -c 'cmp -s "$1" "$2"' _ "$T_DIR/v2" "$flash"
check "signed update: registers bit-exact" all_resumed "$T_DIR/rt.json"
expect_fail "--pubkey that is not a public key" 2 "not an Ed25519 public key" \
	"$FWPUSH" rt-update --activate --pubkey "$T_DIR/key" --name "$name" --flash "$flash"

"$FWPUSH" bench rt --runs 20 --timeout 5s --json >"$T_DIR/bench.json"; rc=$?
check "bench rt: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "bench rt: the figures the dashboards read" python3 -c '
import json, sys
v = {e["name"]: e["value"] for e in json.load(open(sys.argv[1]))}
for k in ("rt.blackout.p50_us", "rt.blackout.p99_us", "rt.signal_rtt.p50_us",
          "rt.raw_xsave_xrstor_hash.p50_ns", "rt.save_check_restore.p50_ns",
          "rt.ratio_blackout_signal", "rt.ratio_core_raw"):
    assert v[k] > 0, k
' "$T_DIR/bench.json"
done_testing
