#!/usr/bin/env bash
# Checks systemd/storyd.service with what systemd itself offers, offline:
# `systemd-analyze verify` must be silent and `systemd-analyze security`
# must rate the unit's exposure at 2.0 ("OK") or better.
# usage: scripts/check-unit.sh STORYD_BINARY
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="$(realpath "${1:?usage: check-unit.sh STORYD_BINARY}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# verify checks that ExecStart's binary exists: point it at the one just built.
sed "s#/usr/bin/storyd#${binary}#" "${root}/systemd/storyd.service" >"${work}/storyd.service"
out="$(systemd-analyze verify "${work}/storyd.service" 2>&1)" || { echo "$out"; exit 1; }
if [[ -n "$out" ]]; then
  echo "systemd-analyze verify is not clean:"
  echo "$out"
  exit 1
fi
echo "systemd-analyze verify: clean"
# The threshold is on systemd's 0-100 scale: 20 is an exposure of 2.0.
systemd-analyze security --offline=true --threshold=20 "${work}/storyd.service" | tail -1
