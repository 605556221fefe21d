#!/usr/bin/env bash
# Plants each bug listed in tests/mutants.list into a copy of the tree, rebuilds, and runs the
# tests the list names for it: every mutant must make at least one of them fail. A mutant that
# survives is a safety check that no test proves, and fails the run.
#
#   tools/mutants.sh [ID...]      every mutant, or only those named
#   tools/mutants.sh --quick      all but those marked "slow: yes" (a mutant whose test can
#                                 only see it by waiting out a timeout): what CI runs
#   --no-baseline                 (after --quick, or first) skip the unmutated run of the
#                                 named tests; tools/test.sh passes it only after those very
#                                 tests passed on this tree in build/, which shows the same
#
# The copy and its build live in a temporary directory (kept with FWPUSH_MUTANTS_KEEP=1); a
# rebuild after a mutation recompiles only the file it touches. FWPUSH_MUTANTS_JOBS workers
# (default 2), each with its own copy and build, share the list: most of a mutant's time is its
# tests waiting on processes, not the CPU. Prints a table and ends with
# "mutants: N killed, N survived, N not applicable here".
set -uo pipefail
quick=0 baseline=1
[ "${1:-}" = --quick ] && { quick=1; shift; }
[ "${1:-}" = --no-baseline ] && { baseline=0; shift; }
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fwpush-mutants.XXXXXX")
[ "${FWPUSH_MUTANTS_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
die() { echo "mutants: $*" >&2; exit 1; }

# The working tree as it is (tracked and untracked files, not ignored ones) into $work/src.
(cd "$top" && git ls-files -z -c -o --exclude-standard | tar --null -T - -cf -) |
	(mkdir "$work/src" && cd "$work/src" && tar -xf -) || die "cannot copy the tree"

# Parses the list; for each mutant to run writes the mutated file to $work/muts/ID and a line
# ID<TAB>FILE<TAB>NEEDS<TAB>TESTS to the plan. The text to replace must occur exactly once.
python3 - "$top/tests/mutants.list" "$work/src" "$work/muts" "$quick" "$@" >"$work/plan" <<'PY' ||
import os, sys
path, src, out, quick, only = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", set(sys.argv[5:])
muts = []
for n, line in enumerate(open(path), 1):
    if line.startswith("#") or not line.strip():
        continue
    if line.startswith("["):
        muts.append({"id": line.strip()[1:-1], "from": "", "to": "", "needs": "-", "line": n})
    elif line[:2] in ("- ", "-\n"):
        muts[-1]["from"] += line[2:] or "\n"
    elif line[:2] in ("+ ", "+\n"):
        muts[-1]["to"] += line[2:] or "\n"
    else:
        key, _, val = line.partition(":")
        muts[-1][key.strip()] = val.strip()
os.makedirs(out)
bad = 0
for m in muts:
    if (only and m["id"] not in only) or (quick and m.get("slow") == "yes"):
        continue
    text = open(os.path.join(src, m["file"])).read()
    if text.count(m["from"]) != 1 or m["from"] == m["to"]:
        print(f"tests/mutants.list:{m['line']}: [{m['id']}]: the text to replace occurs "
              f"{text.count(m['from'])} times in {m['file']}, must be once", file=sys.stderr)
        bad = 1
        continue
    open(os.path.join(out, m["id"]), "w").write(text.replace(m["from"], m["to"]))
    print("\t".join([m["id"], m["file"], m["needs"], m["tests"]]))
if only - {m["id"] for m in muts}:
    print(f"no such mutant: {' '.join(sorted(only - {m['id'] for m in muts}))}", file=sys.stderr)
    bad = 1
sys.exit(bad)
PY
	die "tests/mutants.list is out of date with the code (see above)"

# A CPU feature a mutant needs to be observable here, e.g. avx512f.
have() { [ "$1" = - ] || grep -qw "$1" /proc/cpuinfo; }

# One worker: its own copy of the tree and build, its share of the plan (plan.J), its results
# (results.J: one word per mutant). A worker that cannot start writes why into failed.J.
worker() { # worker J
	local j=$1 src=$work/src.$j build=$work/build.$j log=$work/log.$j all
	local id file needs tests t0 result
	cp -a "$work/src" "$src"
	if ! { meson setup "$build" "$src" -Ddpdk=disabled >"$log" 2>&1 && ninja -C "$build" >>"$log" 2>&1; }; then
		{ cat "$log"; echo "the copy does not build"; } >"$work/failed.$j"
		return
	fi
	# Unmutated, every named test must pass, or a failure below would prove nothing.
	all=$(cut -f4 "$work/plan.$j" | tr ' ' '\n' | sort -u | tr '\n' ' ')
	# shellcheck disable=SC2086
	if [ "$baseline" = 1 ] && [ -n "$all" ] &&
		! meson test -C "$build" --no-rebuild --num-processes 2 --print-errorlogs \
		$all >"$log" 2>&1; then
		{ cat "$log"; echo "the tests fail before any mutation (their output is above)"; } >"$work/failed.$j"
		return
	fi
	while IFS=$'\t' read -r id file needs tests; do
		t0=$(date +%s.%N)
		if ! have "$needs"; then
			echo na >>"$work/results.$j"
			printf '%-26s %-9s %6s  %s\n' "$id" "n/a" - "this CPU has no $needs: the mutant cannot show here"
			continue
		fi
		cp "$src/$file" "$work/orig.$j"
		cp "$work/muts/$id" "$src/$file"
		if ! ninja -C "$build" >"$log" 2>&1; then
			{ cat "$log"; echo "[$id] does not build"; } >"$work/failed.$j"
			return
		fi
		# shellcheck disable=SC2086
		if meson test -C "$build" --no-rebuild --num-processes 2 $tests >"$log" 2>&1; then
			result=SURVIVED
		else
			result=killed
		fi
		cp "$work/orig.$j" "$src/$file"
		echo "$result" >>"$work/results.$j"
		printf '%-26s %-9s %6.1f  %s\n' "$id" "$result" "$(awk "BEGIN { print $(date +%s.%N) - $t0 }")" "$tests"
		[ "$result" = killed ] || sed -n '/^Summary of Failures/,$p;/ OK /p' "$log" | head -20
	done <"$work/plan.$j"
}

jobs=${FWPUSH_MUTANTS_JOBS:-2}
printf '%-26s %-9s %6s  %s\n' mutant result secs "tests"
for j in $(seq 0 $((jobs - 1))); do
	awk -v j="$j" -v n="$jobs" '(NR - 1) % n == j' "$work/plan" >"$work/plan.$j"
	: >"$work/results.$j"
	worker "$j" &
done
wait
for f in "$work"/failed.*; do
	[ -e "$f" ] || continue
	cat "$f" >&2
	die "a worker stopped: $(tail -1 "$f")"
done
killed=$(cat "$work"/results.* | grep -c '^killed$')
survived=$(cat "$work"/results.* | grep -c '^SURVIVED$')
na=$(cat "$work"/results.* | grep -c '^na$')
echo "mutants: $killed killed, $survived survived, $na not applicable here"
[ "$survived" -eq 0 ]
