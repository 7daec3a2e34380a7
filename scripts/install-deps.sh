#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine needs to build, test and run storyd.
# Idempotent: packages already present are left alone; apt-get update runs only
# when something is missing, before it installs (STORYD_APT_UPDATE=1 forces it anyway).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev libpq-dev
  libjansson-dev libxxhash-dev libutf8proc-dev libxml2-dev libcmocka-dev
  postgresql postgresql-client
  openjdk-17-jre-headless maven
  python3 clang clang-format libclang-rt-14-dev valgrind kcat
  systemd groff-base python3-prometheus-client openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 && "${STORYD_APT_UPDATE:-0}" != 1 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]:-(none, update forced)}"
$SUDO apt-get update -q
# The postgresql package would start a cluster of its own on port 5432; storyd's
# scripts run a throwaway cluster instead, so the default one is not needed.
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "install-deps: done"
