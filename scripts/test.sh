#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, checks formatting, builds twice (warnings as errors; and with
# ASan+UBSan), runs the unit tests in both builds and under valgrind, starts
# a real Kafka broker and PostgreSQL, runs the integration tests against the
# sanitized build and the plain one, and stops the services again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)
step() { printf '\n== test.sh: %s (%ds)\n' "$*" "$(($(date +%s) - start))"; }

step "dependencies"
scripts/install-deps.sh

step "format"
scripts/check-format.sh

step "build (warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTORYD_WERROR=ON >/dev/null
cmake --build build

step "build with ASan+UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTORYD_WERROR=ON \
  -DSTORYD_SANITIZE=address,undefined >/dev/null
cmake --build build-asan

step "fuzz every parser briefly (scripts/fuzz.sh runs longer on request)"
scripts/fuzz.sh "${STORYD_FUZZ_SECONDS:-10}"

step "unit tests under valgrind"
for t in build/tests/test_*; do
  valgrind -q --suppressions=tests/valgrind.supp --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1 "$t" >/dev/null
  echo "valgrind clean: $(basename "$t")"
done

# The services fixture inside each CTest run starts and stops Kafka and
# PostgreSQL; this trap only covers an interrupted run.
trap 'scripts/services.sh stop >/dev/null 2>&1 || true' EXIT

step "unit and integration tests, ASan+UBSan build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2

step "unit and integration tests, plain build"
ctest --test-dir build --output-on-failure -j2

step "all passed"
