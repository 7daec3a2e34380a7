#!/usr/bin/env bash
# Installs the storyd .deb on this machine, checks what it put where, then removes and purges
# it and checks that too. Needs root (dpkg); meant for a throwaway machine or CI.
# usage: scripts/check-deb.sh PACKAGE.deb
set -euo pipefail
deb="$(realpath "${1:?usage: check-deb.sh PACKAGE.deb}")"
fail() { echo "check-deb: $*" >&2; exit 1; }
step() { echo "check-deb: $*"; }

dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg -i "$deb" >/dev/null
step "installed $(dpkg-query -W -f='${Package} ${Version}' storyd)"
for f in /usr/bin/storyd /usr/lib/systemd/system/storyd.service /usr/lib/sysusers.d/storyd.conf \
         /usr/lib/tmpfiles.d/storyd.conf /usr/share/man/man1/storyd.1.gz /etc/storyd/storyd.conf \
         /usr/share/doc/storyd/storyd.conf.sample /usr/share/storyd/profiles/dspdaily.com.ini \
         /usr/share/storyd/schemas/0001_page_events_and_offsets.sql; do
  [[ -e "$f" || -e "${f%.gz}" ]] || fail "missing $f"
done
step "files in place"
getent passwd storyd >/dev/null || fail "no storyd account (sysusers)"
[[ "$(stat -c '%U:%G %a' /etc/storyd)" == "root:storyd 750" ]] || fail "/etc/storyd is $(stat -c '%U:%G %a' /etc/storyd)"
step "account storyd and /etc/storyd root:storyd 0750"
/usr/bin/storyd version | head -1
/usr/bin/storyd check-config -c /etc/storyd/storyd.conf | head -1
out="$(systemd-analyze verify /usr/lib/systemd/system/storyd.service 2>&1)"
[[ -z "$out" ]] || fail "systemd-analyze verify: $out"
step "systemd-analyze verify of the installed unit: clean"
systemd-analyze security --offline=true /usr/lib/systemd/system/storyd.service | tail -1
man -w storyd >/dev/null || fail "man storyd not found"
step "man storyd: $(man -w storyd)"

dpkg -r storyd >/dev/null
[[ ! -e /usr/bin/storyd && ! -e /usr/lib/systemd/system/storyd.service ]] || fail "remove left files"
[[ -e /etc/storyd/storyd.conf ]] || fail "remove took the conffile"
step "removed: binary and unit gone, /etc/storyd/storyd.conf kept (a conffile)"
dpkg -P storyd >/dev/null
[[ ! -e /etc/storyd ]] || fail "purge left /etc/storyd"
dpkg-query -W storyd >/dev/null 2>&1 && fail "still known to dpkg"
step "purged: /etc/storyd gone, dpkg knows no storyd"
