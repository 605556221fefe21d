#!/usr/bin/env bash
# The command's own surface: help, version, and the main job with its JSON.
. "$(dirname "$0")/lib.sh"

check "--help lists the exit codes" sh -c "'$FWPUSH' --help | grep -q 'timeout: the BMC made no progress'"
check "help push" sh -c "'$FWPUSH' help push | grep -q -- '--chunk-size'"
check "help bmc-sim" sh -c "'$FWPUSH' help bmc-sim | grep -q -- '--flash'"
check "--version" sh -c "'$FWPUSH' --version | grep -q '^fwpush [0-9]'"
expect_fail "help for an unknown command" 2 "unknown command" "$FWPUSH" help nope

leftovers() { ls -d /dev/shm/fwpush-bench-* "${TMPDIR:-/tmp}"/fwpush-bench-* 2>/dev/null | sort; }
before=$(leftovers)
"$FWPUSH" --bench --size 8M --runs 2 --nor-scale 0.001 --rss-size 64M >"$T_DIR/bench.txt"
check "--bench prints the push line" grep -q "push.emulated.gbps" "$T_DIR/bench.txt"
"$FWPUSH" --bench --size 8M --runs 2 --nor-scale 0.001 --rss-size 64M --json \
	--report "$T_DIR" >"$T_DIR/bench.json"
check "--bench --json: every figure the dashboards read, and sane" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert all(set(e) >= {"name", "unit", "value"} for e in d)
v = {e["name"]: e["value"] for e in d}
for k in ("memcpy.gbps", "push.stopwait.gbps", "push.emulated.gbps", "push.ratio_memcpy",
          "push.ratio_stopwait", "push.nor.ratio_flash", "push.rss_mib"):
    assert v[k] > 0, k
assert v["push.nor.ratio_flash"] >= 0.99, v["push.nor.ratio_flash"]
assert v["push.rss_mib"] < 64, v["push.rss_mib"]
assert json.load(open(sys.argv[2])) == d
' "$T_DIR/bench.json" "$T_DIR/bench.json"
check "--report wrote bench.md" grep -q "| push.emulated.gbps |" "$T_DIR/bench.md"
check "--bench removed everything it made" [ "$(leftovers)" = "$before" ]
done_testing
