#!/bin/sh
# Runs one fuzzer for a bounded time over its seed corpus; new inputs go to a scratch corpus
# in the build directory, never into the repository.
#   run.sh FUZZER SEEDS SCRATCH SECONDS
set -eu
mkdir -p "$3"
exec "$1" "$3" "$2" -max_total_time="$4" -timeout=10 -print_final_stats=1
