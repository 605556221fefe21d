#!/usr/bin/env bash
# Plants each bug listed in tests/mutants.list into a copy of the tree, rebuilds, and runs the
# tests the list names for it: every mutant must make at least one of them fail. A mutant that
# survives is a safety check that no test proves, and fails the run.
#
#   tools/mutants.sh [ID...]      every mutant, or only those named
#   tools/mutants.sh --quick      all but those marked "slow: yes" (a mutant whose test can
#                                 only see it by waiting out a timeout): what CI runs
#
# The copy and its build live in a temporary directory (kept with FWPUSH_MUTANTS_KEEP=1); a
# rebuild after a mutation recompiles only the file it touches. Prints a table and ends with
# "mutants: N killed, N survived, N not applicable here".
set -uo pipefail
quick=0
[ "${1:-}" = --quick ] && { quick=1; shift; }
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

meson setup "$work/build" "$work/src" -Ddpdk=disabled >"$work/log" 2>&1 &&
	ninja -C "$work/build" >>"$work/log" 2>&1 || { cat "$work/log"; die "the copy does not build"; }
# Unmutated, every named test must pass, or a failure below would prove nothing.
all=$(cut -f4 "$work/plan" | tr ' ' '\n' | sort -u | tr '\n' ' ')
# shellcheck disable=SC2086
meson test -C "$work/build" --no-rebuild --num-processes 2 $all >"$work/log" 2>&1 ||
	{ cat "$work/log"; die "the tests fail before any mutation: $all"; }

killed=0 survived=0 na=0
printf '%-26s %-9s %6s  %s\n' mutant result secs "tests"
while IFS=$'\t' read -r id file needs tests; do
	t0=$(date +%s.%N)
	if ! have "$needs"; then
		na=$((na + 1))
		printf '%-26s %-9s %6s  %s\n' "$id" "n/a" - "this CPU has no $needs: the mutant cannot show here"
		continue
	fi
	cp "$work/src/$file" "$work/orig"
	cp "$work/muts/$id" "$work/src/$file"
	if ! ninja -C "$work/build" >"$work/log" 2>&1; then
		cat "$work/log"
		die "[$id] does not build"
	fi
	# shellcheck disable=SC2086
	if meson test -C "$work/build" --no-rebuild --num-processes 2 $tests >"$work/log" 2>&1; then
		result=SURVIVED survived=$((survived + 1))
	else
		result=killed killed=$((killed + 1))
	fi
	cp "$work/orig" "$work/src/$file"
	printf '%-26s %-9s %6.1f  %s\n' "$id" "$result" "$(awk "BEGIN { print $(date +%s.%N) - $t0 }")" "$tests"
	[ "$result" = killed ] || sed -n '/^Summary of Failures/,$p;/ OK /p' "$work/log" | head -20
done <"$work/plan"
echo "mutants: $killed killed, $survived survived, $na not applicable here"
[ "$survived" -eq 0 ]
