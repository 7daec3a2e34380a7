#!/usr/bin/env bash
# Installs a build into a staging folder (DESTDIR) and checks the layout: the binary, the unit
# naming that binary and the installed configuration, sysusers and tmpfiles files, the man page,
# the sample configuration (which must pass check-config), the profiles and the migrations.
# usage: scripts/check-install.sh BUILD_DIR
set -euo pipefail
build="$(realpath "${1:?usage: check-install.sh BUILD_DIR}")"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
fail() { echo "check-install: $*" >&2; exit 1; }
DESTDIR="$stage" cmake --install "$build" >/dev/null
prefix="$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")"
root="$stage$prefix"
[[ -x "$root/bin/storyd" ]] || fail "no $prefix/bin/storyd"
unit="$root/lib/systemd/system/storyd.service"
[[ -f "$unit" ]] || fail "no unit"
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
[[ "$exec_start" == "$prefix/bin/storyd run -c "*"/storyd/storyd.conf" ]] || fail "ExecStart=$exec_start"
conf="${exec_start##* }"
[[ -f "$stage$conf" ]] || fail "the unit's configuration $conf is not installed"
grep -q '^u storyd ' "$root/lib/sysusers.d/storyd.conf" || fail "sysusers.d has no storyd account"
grep -q '^d /etc/storyd ' "$root/lib/tmpfiles.d/storyd.conf" || fail "tmpfiles.d has no /etc/storyd"
grep -q '^\.TH STORYD 1' "$root/share/man/man1/storyd.1" || fail "no man page"
"$root/bin/storyd" check-config -c "$stage$conf" >/dev/null || fail "the installed configuration does not check"
ls "$root/share/storyd/profiles/"*.ini >/dev/null || fail "no profiles"
[[ "$(ls "$root/share/storyd/schemas/"*.sql | wc -l)" -eq "$(ls "$(dirname "$0")/../schemas/"*.sql | wc -l)" ]] ||
  fail "migrations missing"
echo "check-install: $(find "$stage" -type f | wc -l) files under DESTDIR; unit runs $exec_start"
