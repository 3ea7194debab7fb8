#!/usr/bin/env bash
# Measures ack durable against ack buffered and against the durable-echo
# baseline in one run (see bench_durable.py): builds Release, starts a private
# ClickHouse, alternates the three, at each connection count, and writes
# loadtest/results/<date>-durable.md. Not part of the test command.
# Also reached as loadtest/bench.sh --durable [options].
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh"
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DCHGATE_TESTS=OFF >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" --target chgate chgate-load baseline-server >/dev/null
exec python3 "$root/loadtest/bench_durable.py" "$@"
