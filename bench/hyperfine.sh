#!/bin/sh
# Whole-command benchmark: `fwpush push IMAGE` (process start to verified exit) against
# `cp IMAGE` into /dev/shm, both timed by hyperfine on the same image.
#   bench/hyperfine.sh [FWPUSH] [OUTDIR] [SIZE] [bmc-sim options...]
# Writes OUTDIR/hyperfine.json and OUTDIR/hyperfine.md and prints the ratio.
set -eu
fwpush=${1:-build/fwpush}
out=${2:-perf-reports}
size=${3:-64M}
[ $# -ge 3 ] && shift 3 || shift $#
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (tools/deps.sh)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fwpush-hf.XXXXXX")
flash=$(mktemp -d /dev/shm/fwpush-hf.XXXXXX)
win="fwpush-hf-$$"
bmc=
cleanup() {
	[ -z "$bmc" ] || { kill "$bmc"; wait "$bmc"; } 2>/dev/null || true
	rm -rf "$work" "$flash"
}
trap cleanup EXIT INT TERM

head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$work/image.bin"
"$fwpush" bmc-sim --window "shm:$win" --flash "$flash/flash.bin" --quiet "$@" &
bmc=$!
mkdir -p "$out"
hyperfine --warmup 3 --min-runs 20 -N \
	--export-json "$out/hyperfine.json" --export-markdown "$out/hyperfine.md" \
	-n "fwpush push" "$fwpush push $work/image.bin --target shm:$win -q" \
	-n "cp to /dev/shm" "cp $work/image.bin $flash/copy.bin"
cmp -s "$work/image.bin" "$flash/flash.bin" || { echo "flash differs from the image" >&2; exit 1; }
python3 - "$out/hyperfine.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
push, cp = r["fwpush push"]["median"], r["cp to /dev/shm"]["median"]
print(f"fwpush push / cp: {push / cp:.2f} (median {push * 1e3:.2f} ms vs {cp * 1e3:.2f} ms)")
PY
