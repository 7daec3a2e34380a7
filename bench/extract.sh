#!/usr/bin/env bash
# Extraction throughput on one core, text and HTML pages, and instructions per
# page under callgrind (repeatable on a noisy machine).
#
# usage: bench/extract.sh [FILE.jsonl...]   (default: the bundled sample and fixtures)
# A benchmark, not a test: it prints numbers and asserts nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
files=("$@")
if ((${#files[@]} == 0)); then
  files=(samples/dspdaily-sample.jsonl tests/fixtures/pages-small.jsonl)
fi
cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTORYD_BUILD_TESTS=OFF >/dev/null
cmake --build build-rel --target bench_extract >/dev/null
# taskset keeps the run on one core, as the numbers claim.
taskset -c 0 build-rel/bench/bench_extract --seconds 5 "${files[@]}"
if command -v valgrind >/dev/null; then
  # Two runs, 1 and 6 passes over the pages: the difference is the cost of 5 passes of
  # extraction alone, without loading files, profiles and libraries.
  count() {
    local out pages total
    out="$(mktemp)"
    pages=$(valgrind --tool=callgrind --callgrind-out-file="$out" \
      build-rel/bench/bench_extract --passes "$1" "${files[@]}" 2>/dev/null |
      awk '/distinct pages/ {n += $2} END {print n}')
    total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    rm -f "$out"
    echo "$pages $total"
  }
  read -r pages one < <(count 1)
  read -r _ six < <(count 6)
  echo "callgrind: $(((six - one) / (5 * pages))) instructions per page" \
    "(extraction alone, ${pages} pages x 5 passes)"
fi
