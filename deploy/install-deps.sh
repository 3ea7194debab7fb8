#!/usr/bin/env bash
# Installs every Debian 12 package chgate needs to build, test and run locally.
# Idempotent: asks apt only for what is missing, and refreshes the package
# lists only when they are absent or an install fails.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git ca-certificates
    libboost1.81-dev libboost-url1.81-dev nlohmann-json3-dev libyaml-cpp-dev libcurl4-openssl-dev
    zlib1g-dev libdeflate-dev libzstd-dev prometheus-cpp-dev catch2 libssl-dev openssl
    clickhouse-server clickhouse-client zookeeper haproxy
    python3 python3-requests python3-yaml curl jq zstd
    prometheus golang-go chromium tmux python3-matplotlib
    clang libclang-rt-14-dev
)
if [[ "${1:-}" == "--bench" ]]; then
    packages+=(wrk nginx-light libbenchmark-dev libsimdjson-dev valgrind)
fi

missing=()
for p in "${packages[@]}"; do
    # dpkg-query prints "install ok installed" only for a fully installed package.
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
        missing+=("$p")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}" >&2
if [[ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]] ||
    ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
