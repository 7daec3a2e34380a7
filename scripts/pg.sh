#!/usr/bin/env bash
# Runs a throwaway PostgreSQL cluster for storyd's tests, in the repo-local
# .run/pg folder and on its own port, leaving Debian's default cluster alone.
#
# Usage:
#   scripts/pg.sh start            initdb if needed, start, create role and db 'storyd'
#   scripts/pg.sh stop [--wipe]    stop; --wipe also deletes the cluster
#   scripts/pg.sh status           exit 0 if running and answering, 3 if stopped, 1 otherwise
#   scripts/pg.sh version          print the server's version() (cluster must run)
#   scripts/pg.sh psql [ARGS...]   psql connected to db 'storyd' as 'storyd'
#
# Environment:
#   STORYD_PG_PORT (15432), STORYD_PG_BIN (newest /usr/lib/postgresql/*/bin),
#   STORYD_PG_START_TIMEOUT (60 s), STORYD_PG_STOP_TIMEOUT (30 s).
set -euo pipefail

me="pg.sh"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

port="${STORYD_PG_PORT:-15432}"
start_timeout="${STORYD_PG_START_TIMEOUT:-60}"
stop_timeout="${STORYD_PG_STOP_TIMEOUT:-30}"
run_dir="${root}/.run/pg"
data_dir="${run_dir}/data"
log_file="${run_dir}/postgres.log"

say() { echo "${me}: $*"; }
die() { echo "${me}: error: $*" >&2; exit 1; }

# Debian installs the server binaries off PATH, one folder per major version.
pg_bin="${STORYD_PG_BIN:-}"
if [[ -z "$pg_bin" ]]; then
  pg_bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
fi
[[ -n "$pg_bin" && -x "${pg_bin}/initdb" ]] \
  || die "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin); run scripts/install-deps.sh or set STORYD_PG_BIN"

# Unix socket paths are limited to 107 bytes; a deep checkout would overflow
# that, so then the socket goes to a short per-checkout folder under /tmp.
socket_dir="$run_dir"
if ((${#socket_dir} + ${#port} + 10 > 100)); then
  socket_dir="/tmp/storyd-pg-$(echo -n "$root" | sha256sum | cut -c1-12)"
fi

# initdb and postgres refuse to run as root, so root runs them as the
# 'postgres' system user that Debian's postgresql package creates.
as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  getent passwd postgres >/dev/null \
    || die "running as root but there is no 'postgres' user to run the server as"
  as_owner=(runuser -u postgres --)
fi

# Runs a server binary as the cluster owner, from a folder that user can
# enter (initdb warns when it cannot read its working directory).
pg_run() {
  (cd "$run_dir" && "${as_owner[@]}" "$@")
}

# The owner must be able to traverse every folder above the cluster: a
# checkout under /root (mode 700) would otherwise be unreachable for it.
# Checked from the top down, so only the folders that block get changed.
ensure_traversable() {
  ((${#as_owner[@]})) || return 0
  local dir="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${run_dir#/}"
  for part in "${parts[@]}"; do
    dir="${dir}/${part}"
    [[ -d "$dir" ]] || break
    if ! runuser -u postgres -- test -x "$dir"; then
      say "granting others search (x) permission on ${dir} so 'postgres' can reach ${run_dir}"
      chmod o+x "$dir"
    fi
  done
}

# True when the postmaster of this cluster is alive.
server_running() {
  [[ -f "${data_dir}/PG_VERSION" ]] || return 1
  pg_run "${pg_bin}/pg_ctl" status -D "$data_dir" >/dev/null 2>&1
}

# A real client call over TCP, the way storyd connects.
server_answers() {
  "${pg_bin}/psql" -X -qAt -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c 'select 1' 2>/dev/null | grep -qx 1
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

init_cluster() {
  say "creating a cluster in ${data_dir}"
  rm -rf "$data_dir"
  # Trust auth and the C.UTF-8 locale: throwaway, local-only, deterministic.
  pg_run "${pg_bin}/initdb" -D "$data_dir" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"${run_dir}/initdb.log" 2>&1 || {
    echo "${me}: error: initdb failed; last lines of ${run_dir}/initdb.log:" >&2
    tail -n 30 "${run_dir}/initdb.log" >&2
    exit 1
  }
  # Durability is pointless for a test cluster that is wiped anyway. Port
  # and socket live in an included file rewritten on every start, so a
  # changed STORYD_PG_PORT applies to an existing cluster too.
  cat >>"${data_dir}/postgresql.conf" <<EOF

# Added by scripts/pg.sh for a throwaway test cluster.
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
include_if_exists = 'storyd-local.conf'
EOF
}

write_local_conf() {
  # TLS with a self-signed certificate, made once per cluster, so tests can use sslmode.
  if [[ ! -f "${data_dir}/server.key" ]]; then
    openssl req -x509 -nodes -newkey rsa:2048 -days 3650 -subj "/CN=127.0.0.1" \
      -keyout "${data_dir}/server.key" -out "${data_dir}/server.crt" >/dev/null 2>&1 \
      || die "openssl could not make the test certificate"
    chmod 600 "${data_dir}/server.key"
  fi
  cat >"${data_dir}/storyd-local.conf" <<EOF
# Written by scripts/pg.sh on every start.
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${socket_dir}'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
# Commit times of rows, for the end-to-end latency benchmark (bench/e2e.py).
track_commit_timestamp = on
EOF
  # Trust for everyone, except members of storyd_password: they must come over TLS and give
  # their password (SCRAM), as a production role would. Tests make the group and its members.
  cat >"${data_dir}/pg_hba.conf" <<EOF
# Written by scripts/pg.sh on every start.
local     all all                            trust
hostssl   all +storyd_password 127.0.0.1/32  scram-sha-256
hostnossl all +storyd_password 127.0.0.1/32  reject
host      all all              127.0.0.1/32  trust
host      all all              ::1/128       trust
EOF
  if ((${#as_owner[@]})); then
    chown postgres: "${data_dir}/storyd-local.conf" "${data_dir}/pg_hba.conf" \
      "${data_dir}/server.key" "${data_dir}/server.crt"
  fi
}

cmd_start() {
  mkdir -p "$run_dir"
  if server_running; then
    if server_answers; then
      say "already running on 127.0.0.1:${port}"
      ensure_storyd_db
      return 0
    fi
    say "the server runs but does not answer yet; waiting for it"
  else
    if port_open "$port"; then
      die "port ${port} on 127.0.0.1 is already in use by another process; set STORYD_PG_PORT"
    fi
    ensure_traversable
    mkdir -p "$socket_dir"
    if ((${#as_owner[@]})); then
      chown -R postgres: "$run_dir" "$socket_dir"
    fi
    [[ -f "${data_dir}/PG_VERSION" ]] || init_cluster
    write_local_conf
    say "starting PostgreSQL on 127.0.0.1:${port} (socket in ${socket_dir})"
    # pg_ctl backgrounds the postmaster and waits until it accepts
    # connections (or has died); fd 9 is the lock, which the server must not
    # inherit or it would be held for the server's whole life.
    pg_run "${pg_bin}/pg_ctl" start -D "$data_dir" -l "$log_file" -w -t "$start_timeout" \
      >/dev/null 9>&- || fail_start "pg_ctl start failed or timed out after ${start_timeout}s"
  fi

  # Then a real client call over TCP, the way storyd connects.
  SECONDS=0
  until server_answers; do
    if ! server_running; then
      fail_start "the server exited during startup"
    fi
    if ((SECONDS >= start_timeout)); then
      fail_start "the server runs but did not answer on 127.0.0.1:${port} within ${start_timeout}s (is it configured for another port?)"
    fi
    sleep 0.5
  done
  ensure_storyd_db
  say "ready on 127.0.0.1:${port}"
}

fail_start() {
  echo "${me}: error: $1; last lines of ${log_file}:" >&2
  tail -n 30 "$log_file" >&2 2>/dev/null || true
  exit 1
}

# Role and database are created on every start, so a cluster made by an
# older version of this script gets them too.
ensure_storyd_db() {
  # As superuser over the unix socket.
  "${pg_bin}/psql" -X -q -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$port" -U postgres -d postgres \
    <<'EOF' || die "creating role and database 'storyd' failed"
SELECT 'CREATE ROLE storyd LOGIN'
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'storyd') \gexec
SELECT 'CREATE DATABASE storyd OWNER storyd'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'storyd') \gexec
-- The integration tests give each test a database of its own (one storyd deployment owns a
-- database); this cluster is a throwaway one.
ALTER ROLE storyd CREATEDB;
-- DROP DATABASE ... WITH (FORCE) of a test database must also end an autovacuum worker that
-- happens to be in it, which takes pg_signal_backend.
GRANT pg_signal_backend TO storyd;
EOF
}

cmd_stop() {
  local wipe=0
  case "${1:-}" in
    "") ;;
    --wipe) wipe=1 ;;
    *) die "stop takes only --wipe, not '$1'" ;;
  esac
  if server_running; then
    say "stopping PostgreSQL (cluster in ${data_dir})"
    # Fast shutdown first; immediate (crash-like) is fine for a test cluster
    # when clients hang on, and SIGKILL is the last resort.
    if ! pg_run "${pg_bin}/pg_ctl" stop -D "$data_dir" -m fast -w -t "$stop_timeout" >/dev/null 2>&1; then
      say "fast shutdown did not finish within ${stop_timeout}s; trying immediate"
      if ! pg_run "${pg_bin}/pg_ctl" stop -D "$data_dir" -m immediate -w -t 10 >/dev/null 2>&1; then
        local pid
        pid="$(head -n 1 "${data_dir}/postmaster.pid" 2>/dev/null || true)"
        if [[ "$pid" =~ ^[0-9]+$ ]]; then
          say "sending SIGKILL to postmaster ${pid}"
          kill -KILL "$pid" 2>/dev/null || true
        fi
      fi
    fi
    say "stopped"
  else
    say "not running"
  fi
  if ((wipe)); then
    rm -rf "$run_dir"
    [[ "$socket_dir" == "$run_dir" ]] || rm -rf "$socket_dir"
    say "wiped ${run_dir}"
  fi
}

cmd_status() {
  if ! server_running; then
    say "stopped"
    return 3
  fi
  if server_answers; then
    say "running on 127.0.0.1:${port}, $(cmd_version)"
    return 0
  fi
  say "the server runs but does not answer on 127.0.0.1:${port}"
  return 1
}

cmd_version() {
  "${pg_bin}/psql" -X -qAt -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c 'select version()' || die "cannot query the server on 127.0.0.1:${port}; is it started?"
}

cmd_psql() {
  # Fixed connection settings, so the caller's own PG* variables cannot
  # point this at another server; explicit ARGS still override them.
  export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=storyd PGDATABASE=storyd
  exec "${pg_bin}/psql" -X "$@"
}

# Serialises start and stop, so that two callers cannot race on initdb.
take_lock() {
  mkdir -p "$(dirname "$run_dir")"
  exec 9>"${root}/.run/.pg.lock"
  flock -w 180 9 || die "another pg.sh start/stop held ${root}/.run/.pg.lock for 180s"
}

sub="${1:-}"
(($# > 0)) && shift
case "$sub" in
  start) take_lock; cmd_start "$@" ;;
  stop) take_lock; cmd_stop "$@" ;;
  status) cmd_status "$@" ;;
  version) cmd_version "$@" ;;
  psql) cmd_psql "$@" ;;
  *)
    echo "usage: $me start|stop [--wipe]|status|version|psql [ARGS...]" >&2
    exit 2
    ;;
esac
