#!/usr/bin/env bash
# The runtime update on every available CPU (one is enough): applied and bit-exact on the happy
# path; nothing applied (and a clean resume) without a warm start, without a staged update, with
# a corrupted update, with an unsigned or wrongly signed update under --pubkey; bad --cpus lists
# and --inject indexes; URL sources over plain HTTP; bench rt. The rows that need a second CPU
# (a worker to corrupt or block, --cpus subsets) are rt_multicpu.sh; https is rt_tls.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rt_lib.sh"

flash="$T_DIR/flash.bin"
name="$RT_NAME"
all=$(rt_cpus | paste -sd,)
ncpu=$(rt_cpus | wc -l)
first=$(rt_cpus | head -n1)
make_image "$T_DIR/v1" 3000000
make_image "$T_DIR/v2" 2000000

# A roomy rendezvous timeout: CI machines run other tests beside this one.
rt() { "$FWPUSH" rt-update --name "$name" --flash "$flash" --json --timeout 5s "$@" \
	>"$T_DIR/rt.json" 2>"$T_DIR/rt.err"; }

rt "$T_DIR/v1"; rc=$?
check "happy path on all $ncpu CPUs: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "happy path: every processor ($all), the controller too, restored bit-exact" \
	all_resumed "$T_DIR/rt.json" "$all"
check "happy path: the update is the active image" cmp -s "$T_DIR/v1" "$flash"
check "happy path: outcome says applied" grep -q '"applied":true' "$T_DIR/rt.json"

expect_fail "activate again: the update was consumed" 8 "no update staged" \
	"$FWPUSH" rt-update --activate --timeout 5s --name "$name" --flash "$flash"

"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
expect_fail "no warm start requested: nothing applied" 8 "no warm start requested" \
	"$FWPUSH" rt-update --activate --timeout 5s --no-warm-start --name "$name" --flash "$flash"
check "no warm start: flash still v1" cmp -s "$T_DIR/v1" "$flash"

expect_fail "corrupted staged update: refused by its hash" 7 "failed its integrity check" \
	"$FWPUSH" rt-update --activate --timeout 5s --inject corrupt-update --name "$name" --flash "$flash"
check "corrupted update: flash still v1" cmp -s "$T_DIR/v1" "$flash"

# Bad CPU lists and injection indexes: refused before any processor is stopped.
"$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
unusable=$(python3 -c 'import os; a = os.sched_getaffinity(0); print(min(set(range(1024)) - a))')
expect_fail "--cpus 3-1: malformed" 2 "expected a list such as" \
	"$FWPUSH" rt-update --activate --cpus 3-1 --name "$name" --flash "$flash"
expect_fail "--cpus x: malformed" 2 "expected a list such as" \
	"$FWPUSH" rt-update --activate --cpus x --name "$name" --flash "$flash"
expect_fail "--cpus $unusable: a CPU this process may not use" 2 \
	"--cpus $unusable: name CPUs this process may use, each once" \
	"$FWPUSH" rt-update --activate --cpus "$unusable" --name "$name" --flash "$flash"
expect_fail "--cpus $first,$first: a CPU named twice" 2 \
	"--cpus $first,$first: name CPUs this process may use, each once" \
	"$FWPUSH" rt-update --activate --cpus "$first,$first" --name "$name" --flash "$flash"
expect_fail "--inject block:0: the controller is no target" 2 "INDEX must name a worker" \
	"$FWPUSH" rt-update --activate --inject block:0 --name "$name" --flash "$flash"
expect_fail "--inject corrupt-regs:$ncpu: past the CPU list" 2 "INDEX must name a worker" \
	"$FWPUSH" rt-update --activate --inject "corrupt-regs:$ncpu" --name "$name" --flash "$flash"
expect_fail "--name with a slash" 2 "--name a/b: letters, digits" \
	"$FWPUSH" rt-update --activate --name a/b --flash "$flash"
check "bad command lines: flash still v1" cmp -s "$T_DIR/v1" "$flash"

# Staged by one process, activated by the next, through the defined storage locations.
check "stage in one process" "$FWPUSH" rt-update --stage "$T_DIR/v2" --name "$name" -q
rt --activate; rc=$?
check "activate in the next: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "activate in the next: every processor bit-exact" all_resumed "$T_DIR/rt.json" "$all"
check "activate in the next: v2 is active" cmp -s "$T_DIR/v2" "$flash"

# URL sources from a server of our own on 127.0.0.1.
rt_start_server
rt "http://127.0.0.1:$PORT/v1"; rc=$?
check "URL source: staged and applied (exit $rc)" [ "$rc" -eq 0 ]
check "URL source: v1 is active again" cmp -s "$T_DIR/v1" "$flash"
expect_fail "URL 404" 3 "HTTP 404" \
	"$FWPUSH" rt-update --stage "http://127.0.0.1:$PORT/missing" --name "$name"
expect_fail "URL truncated download" 3 "partial" \
	"$FWPUSH" rt-update --stage "http://127.0.0.1:$PORT/truncated/v2" --name "$name"
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
check "signed update: v2 is active" cmp -s "$T_DIR/v2" "$flash"
check "signed update: registers bit-exact" all_resumed "$T_DIR/rt.json" "$all"
expect_fail "--pubkey that is not a public key" 2 "not an Ed25519 public key" \
	"$FWPUSH" rt-update --activate --pubkey "$T_DIR/key" --name "$name" --flash "$flash"

"$FWPUSH" bench rt --runs 20 --timeout 5s --json >"$T_DIR/bench.json"; rc=$?
check "bench rt: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "bench rt: the figures the dashboards read" python3 -c '
import json, sys
v = {e["name"]: e["value"] for e in json.load(open(sys.argv[1]))}
for k in ("rt.blackout.p50_us", "rt.blackout.p99_us", "rt.signal_rtt.p50_us",
          "rt.raw_xsave_xrstor_hash.p50_ns", "rt.kernel_xsave_xrstor.p50_ns",
          "rt.save_check_restore.p50_ns", "rt.ratio_blackout_signal", "rt.ratio_core_raw",
          "rt.signal_rtt.p99_us", "rt.ratio_blackout_p99_p50", "rt.ratio_signal_rtt_p99_p50"):
    assert v[k] > 0, k
# The tails beside the medians they are read against.
assert abs(v["rt.ratio_blackout_p99_p50"] - v["rt.blackout.p99_us"] / v["rt.blackout.p50_us"]) <= 2e-3 * v["rt.ratio_blackout_p99_p50"], v
assert abs(v["rt.ratio_signal_rtt_p99_p50"] - v["rt.signal_rtt.p99_us"] / v["rt.signal_rtt.p50_us"]) <= 2e-3 * v["rt.ratio_signal_rtt_p99_p50"], v
# The floor holds the kernel pair, and the per-core ratio counts it on the sequence side.
assert v["rt.kernel_xsave_xrstor.p50_ns"] < v["rt.raw_xsave_xrstor_hash.p50_ns"], v
want = ((v["rt.save_check_restore.p50_ns"] + v["rt.kernel_xsave_xrstor.p50_ns"]) /
        v["rt.raw_xsave_xrstor_hash.p50_ns"])
assert abs(v["rt.ratio_core_raw"] - want) <= 2e-3 * want, (v["rt.ratio_core_raw"], want)
' "$T_DIR/bench.json"
done_testing
