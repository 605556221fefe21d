#!/usr/bin/env bash
# fwpush bench: the flash of each checked run (the anchor's too) is compared with its image byte
# for byte (a flash that differs fails the bench), and --sweep pushes at every point the README
# lists. The
# figures of the main job and how they relate are in cli.sh.
. "$(dirname "$0")/lib.sh"

# bench ARGS...: fwpush bench, its pid (exec keeps it) added to $T_DIR/pids for leftovers():
# what a bench of ours left, named with its pid, so benches of other tests running beside do
# not count.
bench() { sh -c 'echo $$ >>"$0"; exec "$@"' "$T_DIR/pids" "$FWPUSH" bench "$@"; }
leftovers() {
	local p
	for p in $(cat "$T_DIR/pids"); do
		ls -d /dev/shm/fwpush-bench-"$p"-* "${TMPDIR:-/tmp}"/fwpush-bench-"$p"-* 2>/dev/null
	done
}
small=(--size 1M --runs 1 --nor-scale 0 --rss-size 0)

# --inject corrupt:RUN flips the byte in the middle of that run's flash after its push, as a BMC
# that stored it wrong would leave it: the check must name the run and the byte, and exit 7.
expect_fail "a byte wrong in the default push's flash fails the bench" 7 \
	"bench: default push: the flash differs from the image at byte 524288$" \
	bench "${small[@]}" --inject corrupt:emulated
expect_fail "a byte wrong in the anchor's flash fails the bench" 7 \
	"bench: anchor: the flash differs from the image at byte 524288$" \
	bench "${small[@]}" --inject corrupt:anchor
expect_fail "a byte wrong in the NOR push's flash fails the bench" 7 \
	"bench: NOR push: the flash differs from the image at byte 524288$" \
	bench "${small[@]}" --nor-scale 0.001 --inject corrupt:nor
expect_fail "a byte wrong in the memory run's flash fails the bench" 7 \
	"bench: memory run: the flash differs from the image at byte 4194304$" \
	bench "${small[@]}" --rss-size 8M --inject corrupt:rss
expect_fail "--inject names a run" 2 "corrupt:emulated, corrupt:anchor, corrupt:nor or corrupt:rss" \
	bench "${small[@]}" --inject corrupt:sweep
# The same runs, untouched, pass their checks (so the failures above are the flipped byte's).
bench "${small[@]}" --nor-scale 0.001 --rss-size 8M >"$T_DIR/clean.txt"; rc=$?
check "the same runs with nothing flipped pass (exit $rc)" [ "$rc" -eq 0 ]
check "a failed bench removed everything it made too" [ -z "$(leftovers)" ]

# The anchor (burn_my_bmc emulated) runs beside the stop-and-wait kind and the default push, and
# --json carries its figure and its ratio: the default push against it.
bench "${small[@]}" --json >"$T_DIR/anchor.json"; rc=$?
check "--json exits 0 (exit $rc)" [ "$rc" -eq 0 ]
check "--json: push.anchor.gbps and push.ratio_anchor beside the stop-and-wait kind's" python3 -c '
import json, math, sys
v = {e["name"]: e["value"] for e in json.load(open(sys.argv[1]))}
want = ["push.stopwait.gbps", "push.anchor.gbps", "push.ratio_stopwait", "push.ratio_anchor"]
missing = [n for n in want if n not in v]
if missing:
    sys.exit("       missing: %s" % missing)
if not math.isclose(v["push.ratio_anchor"], v["push.emulated.gbps"] / v["push.anchor.gbps"],
                    rel_tol=2e-3):
    sys.exit("       push.ratio_anchor %s, want push.emulated.gbps / push.anchor.gbps" % v)
' "$T_DIR/anchor.json"
# (1 MiB: 0, 1 and 8 of 16 sectors changed; 0 and 1 may swap under load, 8 may not)
check "--json: delta.ratio_0, _10 and _50 (delta flash, PROTOCOL.md 14): below 1, 50% above 0%" \
	python3 -c '
import json, sys
v = {e["name"]: e["value"] for e in json.load(open(sys.argv[1]))}
r = [v.get("delta.ratio_%d" % p) for p in (0, 10, 50)]
if None in r or not (0 < r[0] < r[2] < 1 and 0 < r[1] < 1):
    sys.exit("       delta ratios %s" % r)
' "$T_DIR/anchor.json"

# --sweep: every chunk size (64K-4M) x slot count (1-16) the README lists, by name, and
# sweep.dat with one row per point: KiB, slots, GB/s as bench.json has it, one block per slot
# count (gnuplot's index).
mkdir "$T_DIR/sweep"
bench "${small[@]}" --sweep --json --report "$T_DIR/sweep" >"$T_DIR/sweep.json"; rc=$?
check "--sweep --json --report exits 0 (exit $rc)" [ "$rc" -eq 0 ]
check "--sweep: push.sweep.<KiB>k_x<slots>.gbps for every point, and sweep.dat a row for each" \
	python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
kib = [64, 128, 256, 512, 1024, 2048, 4096]
slots = [1, 2, 4, 8, 16]
v = {e["name"]: e["value"] for e in d if e["name"].startswith("push.sweep.")}
want = ["push.sweep.%dk_x%d.gbps" % (k, s) for s in slots for k in kib]
bad = []
if list(v) != want:
    bad.append("names: %s" % sorted(set(want) ^ set(v)))
if not all(x > 0 for x in v.values()):
    bad.append("a point at 0 GB/s: %s" % v)
blocks = [b.split("\n") for b in re.split(r"\n\s*\n", open(sys.argv[2]).read().strip())]
rows = [tuple(l.split()) for b in blocks for l in b]
if [len({l.split()[1] for l in b}) for b in blocks] != [1] * len(slots):
    bad.append("sweep.dat: %d blocks, want one per slot count" % len(blocks))
if [(int(r[0]), int(r[1])) for r in rows] != [(k, s) for s in slots for k in kib]:
    bad.append("sweep.dat rows: %s" % rows)
for r in rows:
    n = "push.sweep.%sk_x%s.gbps" % (r[0], r[1])
    if n in v and abs(float(r[2]) - v[n]) > 5e-4 + 5e-4 * v[n]:
        bad.append("sweep.dat %s: %s GB/s, bench.json %s" % (n, r[2], v[n]))
for b in bad:
    print("       " + b)
sys.exit(1 if bad else 0)' "$T_DIR/sweep.json" "$T_DIR/sweep/sweep.dat"
check "--sweep removed everything it made" [ -z "$(leftovers)" ]

# --targets 3: 1, 2 and 3 BMCs at once (every flash checked), figures and fanout.dat that agree.
mkdir -p "$T_DIR/fan"
bench "${small[@]}" --nor-scale 0.002 --targets 3 --json --report "$T_DIR/fan" >"$T_DIR/fan.json"
rc=$?
check "--targets 3 --json --report exits 0 (exit $rc)" [ "$rc" -eq 0 ]
check "--targets: gbps, cpu_s and rss_mib for 1, 2 and 3 targets, the NOR ratio, fanout.dat rows" \
	python3 -c '
import json, sys
v = {e["name"]: e["value"] for e in json.load(open(sys.argv[1]))}
rows = [l.split() for l in open(sys.argv[2]) if l.strip()]
ok = [int(r[0]) for r in rows] == [1, 2, 3]
for n in (1, 2, 3):
    for k in ("gbps", "cpu_s", "rss_mib"):
        ok = ok and v.get("push.fanout.%d.%s" % (n, k), 0) > 0
    ok = ok and abs(float(rows[n - 1][1]) - v["push.fanout.%d.gbps" % n]) < 0.0015
ok = ok and v.get("push.fanout.nor_ratio", 0) > 0
sys.exit(0 if ok else 1)' "$T_DIR/fan.json" "$T_DIR/fan/fanout.dat"
check "--targets removed everything it made" [ -z "$(leftovers)" ]
done_testing
