#!/usr/bin/env bash
# Measures ack durable against ack buffered in one run (see bench_durable.py):
# builds Release, starts a private ClickHouse, alternates the two modes, and
# writes loadtest/results/<date>-durable.md. Not part of the test command.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh"
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DCHGATE_TESTS=OFF >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" --target chgate chgate-load >/dev/null
exec python3 "$root/loadtest/bench_durable.py" "$@"
