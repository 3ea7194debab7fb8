#!/usr/bin/env bash
# The benchmark command (issue 4): builds Release, then measures chgate
# against nginx, ClickHouse single-row INSERTs, ClickHouse's Buffer table and
# ClickHouse's own bulk INSERT rate in one run, plus the adaptive ramp, the
# cost per event as load grows, and the micro-benchmarks. Writes
# loadtest/results/<date>-bench.md. Not part of the test command.
#   loadtest/bench.sh [--seconds S] [--only baselines,chgate,adaptive,growth,micro]
#                     [--scenarios a,b,c,d] [--acks buffered,durable] [--output FILE]
#   loadtest/bench.sh --ab BIN_A,BIN_B [--rounds N] [--scenarios a] [--acks ...]
#                     [--schemas off,check,coerce] [--formats jsoneachrow,rowbinary]
#                     compares chgate binaries, alternated (loadtest/results/<date>-ab.md);
#                     with --schemas, each binary under each tables' schema setting
#   loadtest/bench.sh --scenarios cluster [--seconds S]
#                     feeding a 2 x 2 cluster: shard_by, distributed: true and
#                     direct INSERTs (loadtest/bench_cluster.py, <date>-cluster.md)
#   loadtest/bench.sh --durable [--connections 64,512] [--rounds N] [--seconds S]
#                     durable against buffered and the durable-echo baseline
#                     (loadtest/bench-durable.sh, loadtest/results/<date>-durable.md)
#   loadtest/bench.sh --peers [--seconds S] [--rounds N] [--no-kill]
#                     single events against kittenhouse and clickhouse-bulk, built
#                     first by loadtest/peers/build.sh (loadtest/bench_peers.py,
#                     loadtest/results/<date>-peers.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ "${1:-}" == "--durable" ]]; then
    shift
    exec "$root/loadtest/bench-durable.sh" "$@"
fi
"$root/deploy/install-deps.sh" --bench
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DCHGATE_TESTS=OFF \
    -DCHGATE_BENCH=ON >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" --target chgate chgate-load chgate-microbench baseline-server \
    >/dev/null
if [[ " $* " == *" --peers "* ]]; then
    exec python3 "$root/loadtest/bench_peers.py" "$@"
fi
if [[ " $* " == *" --scenarios cluster "* ]]; then
    exec python3 "$root/loadtest/bench_cluster.py" "$@"
fi
exec python3 "$root/loadtest/bench.py" "$@"
