#!/usr/bin/env bash
# Starts, stops or reports the local services storyd's tests need: a
# single-node Kafka broker (scripts/kafka.sh) and a throwaway PostgreSQL
# cluster (scripts/pg.sh). `start` writes .run/env, which tests source:
#   STORYD_KAFKA_BROKERS=127.0.0.1:19092
#   STORYD_PG_DSN='host=127.0.0.1 port=15432 dbname=storyd user=storyd'
#
# Usage: scripts/services.sh start | stop [--wipe] | stop-unless-kept | status
set -euo pipefail

me="services.sh"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scripts="${root}/scripts"
env_file="${root}/.run/env"

kafka_port="${STORYD_KAFKA_PORT:-19092}"
pg_port="${STORYD_PG_PORT:-15432}"

say() { echo "${me}: $*"; }
die() { echo "${me}: error: $*" >&2; exit 1; }

summary() {
  local kafka_version pg_version
  kafka_version="$("${scripts}/kafka.sh" version)"
  pg_version="$("${scripts}/pg.sh" version)"
  say "kafka: Apache Kafka ${kafka_version} (KRaft, single node) at 127.0.0.1:${kafka_port}"
  say "postgres: ${pg_version} at 127.0.0.1:${pg_port}, db storyd, user storyd"
}

cmd_start() {
  # PostgreSQL first: it is quick, and a failure there is reported before
  # the slower Kafka download and startup.
  "${scripts}/pg.sh" start || die "PostgreSQL did not start (see above)"
  "${scripts}/kafka.sh" start || die "Kafka did not start (see above)"

  mkdir -p "$(dirname "$env_file")"
  # Written to a temporary file and renamed, so a reader never sees half of it.
  cat >"${env_file}.tmp" <<EOF
STORYD_KAFKA_BROKERS=127.0.0.1:${kafka_port}
STORYD_KAFKA_SASL_BROKERS=127.0.0.1:${STORYD_KAFKA_SASL_PORT:-19094}
STORYD_KAFKA_SASL_USER=${STORYD_KAFKA_SASL_USER:-storyd}
STORYD_KAFKA_SASL_PASSWORD=${STORYD_KAFKA_SASL_PASSWORD:-storyd-sasl-test-secret}
STORYD_PG_DSN='host=127.0.0.1 port=${pg_port} dbname=storyd user=storyd'
EOF
  mv -f "${env_file}.tmp" "$env_file"
  say "wrote ${env_file}"
  summary
}

cmd_stop() {
  case "${1:-}" in
    "" | --wipe) ;;
    *) die "stop takes only --wipe, not '$1'" ;;
  esac
  # Both are stopped even when one fails, and the failure is reported after.
  local rc=0
  "${scripts}/kafka.sh" stop "$@" || { echo "${me}: error: stopping Kafka failed" >&2; rc=1; }
  "${scripts}/pg.sh" stop "$@" || { echo "${me}: error: stopping PostgreSQL failed" >&2; rc=1; }
  rm -f "$env_file"
  return "$rc"
}

cmd_status() {
  local rc=0
  "${scripts}/kafka.sh" status || rc=$?
  local pg_rc=0
  "${scripts}/pg.sh" status || pg_rc=$?
  # Stopped (3) only when both are; any other failure wins.
  if ((rc == 0 && pg_rc == 0)); then
    return 0
  elif ((rc == 3 && pg_rc == 3)); then
    return 3
  fi
  return 1
}

sub="${1:-}"
(($# > 0)) && shift
case "$sub" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  # CTest's cleanup fixture: a developer who keeps services between runs sets
  # STORYD_KEEP_SERVICES=1; CI and the test command stop them.
  stop-unless-kept)
    if [[ "${STORYD_KEEP_SERVICES:-0}" == 1 ]]; then
      say "STORYD_KEEP_SERVICES=1: leaving the services running"
    else
      cmd_stop
    fi
    ;;
  status) cmd_status "$@" ;;
  *)
    echo "usage: $me start | stop [--wipe] | stop-unless-kept | status" >&2
    exit 2
    ;;
esac
