#!/usr/bin/env bash
# Builds the storyd .deb with CPack into build-deb/ (prefix /usr, no tests, no benchmarks).
# usage: scripts/build-deb.sh; the package path is printed last.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${root}/build-deb"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DSTORYD_BUILD_TESTS=OFF -DSTORYD_BUILD_BENCH=OFF -DSTORYD_WERROR=ON >/dev/null
cmake --build "$build"
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/storyd_*.deb
