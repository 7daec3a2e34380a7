#!/usr/bin/env bash
# Runs a throwaway single-node Apache Kafka broker (KRaft mode) for storyd's
# tests, from jars that Maven fetches once into the repo-local .cache/ folder.
#
# Usage:
#   scripts/kafka.sh start                  fetch jars if needed, start, wait until it answers
#   scripts/kafka.sh stop [--wipe]          stop; --wipe also deletes the broker's data
#   scripts/kafka.sh status                 exit 0 if running and answering, 3 if stopped, 1 otherwise
#   scripts/kafka.sh version                print the Kafka version in use (fetches jars if needed)
#   scripts/kafka.sh topics-create NAME PARTITIONS [key=value ...]
#   scripts/kafka.sh topics-describe NAME
#   scripts/kafka.sh run-class CLASS [ARGS...]   run a Kafka Java tool class
#
# Environment:
#   STORYD_KAFKA_PORT (19092), STORYD_KAFKA_CONTROLLER_PORT (19093), STORYD_KAFKA_SASL_PORT
#   (19094; SASL/PLAIN for STORYD_KAFKA_SASL_USER and STORYD_KAFKA_SASL_PASSWORD),
#   STORYD_KAFKA_VERSION (4.4.0), STORYD_KAFKA_START_TIMEOUT (90 s),
#   STORYD_KAFKA_STOP_TIMEOUT (30 s), JAVA_HOME.
set -euo pipefail

me="kafka.sh"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

port="${STORYD_KAFKA_PORT:-19092}"
controller_port="${STORYD_KAFKA_CONTROLLER_PORT:-19093}"
# A second client listener that wants SASL/PLAIN, for the tests of storyd's SASL passthrough.
sasl_port="${STORYD_KAFKA_SASL_PORT:-19094}"
sasl_user="${STORYD_KAFKA_SASL_USER:-storyd}"
sasl_password="${STORYD_KAFKA_SASL_PASSWORD:-storyd-sasl-test-secret}"
bootstrap="127.0.0.1:${port}"
wanted_version="${STORYD_KAFKA_VERSION:-4.4.0}"
# Used only when the wanted version cannot be resolved from Maven Central.
fallback_version="4.3.1"
start_timeout="${STORYD_KAFKA_START_TIMEOUT:-90}"
stop_timeout="${STORYD_KAFKA_STOP_TIMEOUT:-30}"

pom="${root}/scripts/kafka/pom.xml"
run_dir="${root}/.run/kafka"
data_dir="${run_dir}/data"
log_file="${run_dir}/kafka.log"
pid_file="${run_dir}/pid"
config_file="${run_dir}/server.properties"
broker_log4j="${run_dir}/log4j2-broker.properties"
tools_log4j="${run_dir}/log4j2-tools.properties"

if [[ -z "${JAVA_HOME:-}" && -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
  JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi
java_bin="${JAVA_HOME:+${JAVA_HOME}/bin/}java"

say() { echo "${me}: $*"; }
die() { echo "${me}: error: $*" >&2; exit 1; }

# Set by resolve_libs: the Kafka version in use and the folder of its jars.
kafka_version=""
libs_dir=""

# Fetches the jars of one Kafka version unless a previous fetch completed.
# The marker records the pom's checksum, so editing the pom refetches.
fetch_version() {
  local version="$1"
  local libs="${root}/.cache/kafka-${version}/libs"
  local marker="${root}/.cache/kafka-${version}/.complete"
  local sum
  sum="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f "$marker" && "$(cat "$marker")" == "$sum" ]] && compgen -G "${libs}/kafka_2.13-${version}.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found; run scripts/install-deps.sh"
  say "fetching Kafka ${version} jars with Maven into ${libs}"
  # A half-finished earlier fetch may have left jars of mixed versions.
  rm -rf "$libs" "$marker"
  mkdir -p "$libs"
  # Maven's output goes to a log shown only on failure: even with -q and -B,
  # Debian's mvn prints stray colour escape codes.
  local mvn_log="${root}/.cache/kafka-${version}.mvn.log"
  if ! mvn -q -B -f "$pom" "-Dkafka.version=${version}" "-Dkafka.libs.dir=${libs}" \
      dependency:copy-dependencies >"$mvn_log" 2>&1; then
    echo "${me}: mvn could not fetch Kafka ${version}; last lines of ${mvn_log}:" >&2
    tail -n 20 "$mvn_log" >&2 || true
    rm -rf "${root}/.cache/kafka-${version}"
    return 1
  fi
  rm -f "$mvn_log"
  echo "$sum" >"$marker"
}

resolve_libs() {
  [[ -n "$libs_dir" ]] && return 0
  if fetch_version "$wanted_version"; then
    kafka_version="$wanted_version"
  elif [[ "$wanted_version" != "$fallback_version" ]] && {
      say "warning: Kafka ${wanted_version} did not resolve; trying ${fallback_version}" >&2
      fetch_version "$fallback_version"; }; then
    kafka_version="$fallback_version"
  else
    die "could not fetch the Kafka jars with Maven (see the mvn output above)"
  fi
  libs_dir="${root}/.cache/kafka-${kafka_version}/libs"
}

# Log4j2 configurations: the broker logs INFO to stdout (redirected to
# kafka.log); command-line tools log only warnings, to stderr, so their
# stdout stays parseable.
write_log4j_configs() {
  mkdir -p "$run_dir"
  cat >"$broker_log4j" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = OUT
# The request logger is very chatty at INFO and DEBUG.
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF
  cat >"$tools_log4j" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = ERR
EOF
}

run_java_tool() {
  resolve_libs
  [[ -f "$tools_log4j" ]] || write_log4j_configs
  "$java_bin" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true "-Dlog4j2.configurationFile=${tools_log4j}" \
    -cp "${libs_dir}/*" "$@"
}

# True while the process exists and is not a zombie: an exited broker whose
# parent (often init, after this script ends) has not reaped it yet still
# answers kill -0.
pid_alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# Prints the broker's pid if the pid file names a live Kafka broker process;
# a stale file (e.g. after a reboot, with the pid reused) is not trusted.
broker_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

# True when something accepts TCP connections on the port.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A real client call: the broker must answer a metadata request and list
# itself, which it only does once it is unfenced and ready to serve.
broker_answers() {
  kcat -L -b "$bootstrap" -m 3 2>/dev/null | grep -q "broker 1 at 127.0.0.1:${port}"
}

write_server_properties() {
  cat >"$config_file" <<EOF
# Generated by scripts/kafka.sh: a single-node KRaft broker for tests.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller_port},SASL_PLAINTEXT://127.0.0.1:${sasl_port}
advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${sasl_port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${sasl_user}="${sasl_password}";
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:${controller_port}
log.dirs=${data_dir}

# One node: every internal topic gets a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=1
# Few internal partitions make the first consumer group and transaction start fast.
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5

# Tests create their topics explicitly and want consumers to join at once.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0

# Room for 20 MB pages: 32 MiB records, and replica fetches to match.
message.max.bytes=33554432
replica.fetch.max.bytes=33554432
socket.request.max.bytes=104857600
EOF
}

cmd_start() {
  local pid
  if pid="$(broker_pid)"; then
    if broker_answers; then
      say "already running (pid ${pid}) on ${bootstrap}"
      return 0
    fi
    say "process ${pid} exists but does not answer yet; waiting for it"
  else
    rm -f "$pid_file"
    for p in "$port" "$controller_port" "$sasl_port"; do
      if port_open "$p"; then
        die "port ${p} on 127.0.0.1 is already in use by another process; set STORYD_KAFKA_PORT / STORYD_KAFKA_CONTROLLER_PORT"
      fi
    done
    resolve_libs
    mkdir -p "$run_dir"
    write_log4j_configs
    write_server_properties

    # Storage is formatted once; restarts keep the data and the cluster id.
    if [[ ! -f "${data_dir}/meta.properties" ]]; then
      local cluster_id
      cluster_id="$(run_java_tool kafka.tools.StorageTool random-uuid)" \
        || die "StorageTool random-uuid failed"
      say "formatting storage in ${data_dir} (cluster id ${cluster_id})"
      rm -rf "$data_dir"
      run_java_tool kafka.tools.StorageTool format --standalone \
        -t "$cluster_id" -c "$config_file" >/dev/null \
        || die "StorageTool format failed for ${data_dir}"
    fi

    say "starting Kafka ${kafka_version} on ${bootstrap} (controller 127.0.0.1:${controller_port})"
    # nohup and closed standard streams let the broker outlive this script
    # and its caller's terminal or pipe; fd 9 is the lock, which must not be
    # inherited or it would be held for the broker's whole life.
    nohup "$java_bin" -Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Djava.awt.headless=true "-Dlog4j2.configurationFile=${broker_log4j}" \
      "-Dkafka.logs.dir=${run_dir}" \
      -cp "${libs_dir}/*" kafka.Kafka "$config_file" \
      </dev/null >"$log_file" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$pid_file"
  fi

  SECONDS=0
  until broker_answers; do
    if ! pid_alive "$pid"; then
      echo "${me}: error: the broker (pid ${pid}) exited during startup; last lines of ${log_file}:" >&2
      tail -n 40 "$log_file" >&2 || true
      rm -f "$pid_file"
      exit 1
    fi
    if ((SECONDS >= start_timeout)); then
      echo "${me}: error: the broker did not answer on ${bootstrap} within ${start_timeout}s; last lines of ${log_file}:" >&2
      tail -n 40 "$log_file" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  say "ready on ${bootstrap} (pid ${pid}, answered after ${SECONDS}s)"
}

cmd_stop() {
  local wipe=0
  case "${1:-}" in
    "") ;;
    --wipe) wipe=1 ;;
    *) die "stop takes only --wipe, not '$1'" ;;
  esac
  local pid
  if pid="$(broker_pid)"; then
    say "stopping the broker (pid ${pid})"
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while pid_alive "$pid" && ((waited < stop_timeout * 10)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    if pid_alive "$pid"; then
      say "the broker did not stop within ${stop_timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      waited=0
      while pid_alive "$pid" && ((waited < 100)); do
        sleep 0.1
        waited=$((waited + 1))
      done
      if pid_alive "$pid"; then
        die "the broker (pid ${pid}) survived SIGKILL for 10s"
      fi
    fi
    say "stopped"
  else
    say "not running"
  fi
  rm -f "$pid_file"
  if ((wipe)); then
    rm -rf "$data_dir"
    say "wiped ${data_dir}"
  fi
}

cmd_status() {
  local pid
  if ! pid="$(broker_pid)"; then
    say "stopped"
    return 3
  fi
  if broker_answers; then
    say "running (pid ${pid}) on ${bootstrap}, Kafka $(cmd_version)"
    return 0
  fi
  say "process ${pid} runs but does not answer on ${bootstrap}"
  return 1
}

cmd_version() {
  resolve_libs >&2
  echo "$kafka_version"
}

cmd_topics_create() {
  (($# >= 2)) || die "usage: kafka.sh topics-create NAME PARTITIONS [key=value ...]"
  local name="$1" partitions="$2"
  shift 2
  [[ "$partitions" =~ ^[1-9][0-9]*$ ]] || die "PARTITIONS must be a positive integer, not '${partitions}'"
  local args=(--bootstrap-server "$bootstrap" --create --topic "$name"
    --partitions "$partitions" --replication-factor 1)
  local kv
  for kv in "$@"; do
    [[ "$kv" == *=* ]] || die "topic config must be key=value, not '${kv}'"
    args+=(--config "$kv")
  done
  run_java_tool org.apache.kafka.tools.TopicCommand "${args[@]}" \
    || die "creating topic '${name}' failed"
}

cmd_topics_describe() {
  (($# == 1)) || die "usage: kafka.sh topics-describe NAME"
  run_java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --describe --topic "$1" || die "describing topic '$1' failed"
}

cmd_run_class() {
  (($# >= 1)) || die "usage: kafka.sh run-class CLASS [ARGS...]"
  run_java_tool "$@"
}

# Serialises start and stop, so that two callers (e.g. parallel test jobs)
# cannot both launch a broker.
take_lock() {
  mkdir -p "$run_dir"
  exec 9>"${run_dir}/.lock"
  flock -w 180 9 || die "another kafka.sh start/stop held ${run_dir}/.lock for 180s"
}

sub="${1:-}"
(($# > 0)) && shift
case "$sub" in
  start) take_lock; cmd_start "$@" ;;
  stop) take_lock; cmd_stop "$@" ;;
  status) cmd_status "$@" ;;
  version) cmd_version "$@" ;;
  topics-create) cmd_topics_create "$@" ;;
  topics-describe) cmd_topics_describe "$@" ;;
  run-class) cmd_run_class "$@" ;;
  *)
    echo "usage: $me start|stop [--wipe]|status|version|topics-create NAME PARTITIONS [k=v...]|topics-describe NAME|run-class CLASS ARGS..." >&2
    exit 2
    ;;
esac
