#!/usr/bin/env bash
# The core pipeline alone (extraction, normalization, dedup: `storyd process`) on one core,
# against the Python stack a user would assemble (bench/python_stack.py: trafilatura +
# datasketch MinHashLSH) on the same input, in the same run; and instructions per page under
# callgrind, which the machine's noise does not move.
#
# usage: bench/core.sh WORKLOAD.jsonl [CALLGRIND_PAGES]   (bench/workload.py makes one)
# PY_PAGES (default 20000): the Python stack runs on that many first pages, and storyd again on
# the same pages, for a ratio on one input.
# A benchmark, not a test: it prints numbers and asserts nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
workload="${1:?usage: bench/core.sh WORKLOAD.jsonl [CALLGRIND_PAGES]}"
sample_pages="${2:-2000}"
cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTORYD_BUILD_TESTS=OFF \
  -DSTORYD_BUILD_BENCH=OFF >/dev/null
cmake --build build-rel --target storyd >/dev/null
pages=$(grep -c . "$workload")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# taskset keeps each run on one core, as the numbers claim.
run_storyd() {
  local input="$1" start end items stories seconds pages
  pages=$(grep -c . "$input")
  start=$(date +%s.%N)
  taskset -c 0 build-rel/storyd process "$input" >"$work/items.jsonl" 2>"$work/process.log"
  end=$(date +%s.%N)
  items=$(wc -l <"$work/items.jsonl")
  stories=$(grep -o '"story_id":"[^"]*"' "$work/items.jsonl" | sort -u | wc -l)
  seconds=$(echo "$end - $start" | bc -l)
  printf 'storyd process (1 core): %d pages, %d items, %d story ids in %.2f s: %.0f pages/s, %.0f items/s\n' \
    "$pages" "$items" "$stories" "$seconds" "$(echo "$pages / $seconds" | bc -l)" \
    "$(echo "$items / $seconds" | bc -l)"
}
run_storyd "$workload"
py_pages="${PY_PAGES:-20000}"
head -n "$py_pages" "$workload" >"$work/py.jsonl"
echo "on the first $(grep -c . "$work/py.jsonl") pages, both:"
run_storyd "$work/py.jsonl"
taskset -c 0 build/bench-venv/bin/python bench/python_stack.py "$work/py.jsonl"

if command -v valgrind >/dev/null; then
  # Two runs, 1 page and N pages: the difference is the cost of N-1 pages alone, without the
  # start (profiles, libraries).
  head -n 1 "$workload" >"$work/one.jsonl"
  head -n "$sample_pages" "$workload" >"$work/sample.jsonl"
  count() {
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" build-rel/storyd process "$1" \
      >/dev/null 2>&1
    callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
  }
  one=$(count "$work/one.jsonl")
  many=$(count "$work/sample.jsonl")
  n=$(grep -c . "$work/sample.jsonl")
  printf 'callgrind: %.0f instructions per page (%d pages of the workload)\n' \
    "$(echo "($many - $one) / ($n - 1)" | bc -l)" "$n"
fi
