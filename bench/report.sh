#!/bin/sh
# Runs the whole benchmark and writes a report into perf-reports/ (or DIR):
#   bench.json   github-action-benchmark entries (name, unit, value)
#   bench.md     the same as a Markdown table, with the machine it ran on
#   sweep.dat    GB/s per chunk size x slot count; sweep.svg plots it (gnuplot)
#   fanout.dat   GB/s, CPU s per target, RSS per number of targets; fanout.svg plots it
#   hyperfine.json, hyperfine.md   fwpush push vs cp, whole commands
#   rt.json      fwpush bench rt: per-core runtime-update timings (same format as bench.json)
# usage: bench/report.sh [DIR]     (build first: meson compile -C build)
set -eu
cd "$(dirname "$0")/.."
out=${1:-perf-reports}
fwpush=build/fwpush
mkdir -p "$out"
"$fwpush" bench --sweep --targets 16 --runs 7 --report "$out"
gnuplot -e "dat='$out/sweep.dat'; out='$out/sweep.svg'" bench/sweep.gp
gnuplot -e "dat='$out/fanout.dat'; out='$out/fanout.svg'" bench/fanout.gp
bench/hyperfine.sh "$fwpush" "$out" 64M
"$fwpush" bench rt --runs 500 --json >"$out/rt.json"
