#!/usr/bin/env bash
# The dedup engine at scale: items/s on one core and bytes per indexed story.
#
# usage: bench/dedup_bench.sh [STORIES...]      (default: 100000 1000000)
# Builds dedup_bench in a Release build folder (build-rel; BUILD_DIR to change it) and runs
# it pinned to CPU 0 (taskset -c 0) for each story count, once as generated (the second
# teaser of a story repeats the first: resolved by the exact-text hash) and once with
# --no-exact (every text distinct: everything goes through anchors and MinHash).
# 1M stories is about 6.1M items and 4.5 GiB of engine state; it takes a few minutes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-${root}/build-rel}"
counts=("$@")
((${#counts[@]})) || counts=(100000 1000000)

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target dedup_bench >/dev/null
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

for n in "${counts[@]}"; do
  for mode in "" --no-exact; do
    echo "== ${n} stories ${mode:-(exact repeats)}"
    "${pin[@]}" "${build}/bench/dedup_bench" --stories "$n" ${mode}
    echo
  done
done
