#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang in build-fuzz/ and runs each
# for a while.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 30. TARGET is a name like "url" or "fuzz_url"; without one,
# every target runs. Each target runs on build-fuzz/corpus/NAME, which starts as a copy of
# tests/fuzz/corpus/NAME and keeps growing across runs, so the committed seeds stay as they
# are. Crash inputs land in build-fuzz/artifacts/. Prints one summary line per target and
# exits with libFuzzer's exit code when a target finds a crash.
# STORYD_FUZZ_BUILD names another build folder (default build-fuzz), so a long campaign can run
# next to the test command's short one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
shift || true

build="${STORYD_FUZZ_BUILD:-build-fuzz}"
CC=clang cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTORYD_FUZZ=ON \
  -DSTORYD_SANITIZE=address,undefined -DSTORYD_BUILD_TESTS=OFF >/dev/null

targets=()
if [[ $# -gt 0 ]]; then
  for name in "$@"; do
    targets+=("${name#fuzz_}")
  done
else
  for source in tests/fuzz/fuzz_*.c; do
    name="$(basename "$source" .c)"
    targets+=("${name#fuzz_}")
  done
fi
for name in "${targets[@]}"; do
  if [[ ! -f "tests/fuzz/fuzz_$name.c" ]]; then
    echo "fuzz: no target $name (tests/fuzz/fuzz_$name.c)" >&2
    exit 2
  fi
done
mkdir -p "$build/artifacts" "$build/logs"
if ! cmake --build "$build" --target "${targets[@]/#/fuzz_}" >"$build/logs/build.log" 2>&1; then
  cat "$build/logs/build.log" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi

status=0
for name in "${targets[@]}"; do
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  if [[ -d "tests/fuzz/corpus/$name" ]]; then
    cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  fi
  log="$build/logs/$name.log"
  rc=0
  "$build/fuzz_$name" -max_total_time="$seconds" -max_len=65536 \
    -artifact_prefix="$build/artifacts/$name-" "$corpus" >"$log" 2>&1 || rc=$?
  # libFuzzer ends with "Done N runs in S second(s)" when nothing went wrong.
  done_line="$(grep -aE '^Done [0-9]+ runs in' "$log" | tail -n 1 || true)"
  files="$(find "$corpus" -type f | wc -l)"
  # Coverage as libFuzzer counts it: edges (cov) and features (ft) reached.
  coverage="$(grep -aoE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)"
  if [[ $rc -eq 0 ]]; then
    echo "fuzz_$name: ok, ${done_line#Done }, ${coverage:-no coverage line}, corpus $files files"
  else
    crash="$(grep -aoE "$build/artifacts/$name-[^ ]+" "$log" | tail -n 1 || true)"
    echo "fuzz_$name: FAILED (exit $rc), input ${crash:-unknown}, log $log"
    [[ $status -eq 0 ]] && status=$rc
  fi
done
exit "$status"
