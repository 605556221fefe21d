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
"$FWPUSH" --bench --size 8M --runs 2 >"$T_DIR/bench.txt"
check "--bench verifies the flash byte for byte" grep -q "flash equals the image" "$T_DIR/bench.txt"
"$FWPUSH" --bench --size 8M --runs 2 --json >"$T_DIR/bench.json"
check "--bench --json is a list of {name, unit, value}" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
names = {e["name"]: e for e in d}
assert all(set(e) >= {"name", "unit", "value"} for e in d)
assert names["push.emulated.gbps"]["value"] > 0
assert names["push.verified"]["value"] == 1
' "$T_DIR/bench.json"
check "--bench removed everything it made" [ "$(leftovers)" = "$before" ]
done_testing
