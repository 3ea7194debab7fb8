#!/usr/bin/env bash
# The one command that runs the gateway locally:
#   installs the Debian packages, builds chgate (Release), starts a private
#   ClickHouse on 127.0.0.1:8123 with its data in var/clickhouse, creates the
#   example tables, and runs chgate in the foreground with config/chgate.yaml.
#   Ctrl-C flushes chgate's buffers into ClickHouse, then stops both.
#
#   deploy/run.sh --cluster
#   does the same against a ClickHouse cluster it starts in var/cluster
#   (deploy/cluster.sh: ZooKeeper and 2 shards x 2 replicas, HTTP on
#   127.0.0.1:8123-8126), with the example tables as Distributed tables over
#   replicated shards (deploy/cluster-sql.py) and config/examples/cluster.yaml.
#
# Environment:
#   CLICKHOUSE_URL   use this ClickHouse instead of starting one
#                    (the example tables are created there too)
#   CHGATE_LISTEN    chgate's address (default 0.0.0.0:8080)
#   CH_HTTP_PORT     the local ClickHouse's HTTP port (default 8123)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

"$root/deploy/install-deps.sh"

echo "run.sh: building chgate (Release) in build-release/" >&2
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCHGATE_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target chgate

config="$root/config/chgate.yaml"
if [[ "${1:-}" == "--cluster" ]]; then
    cluster_dir="$root/var/cluster"
    "$root/deploy/cluster.sh" start "$cluster_dir" --base-port 8123
    trap '"$root/deploy/cluster.sh" stop "$cluster_dir"' EXIT
    sql="$cluster_dir/tables.sql"
    # The tables config/examples/cluster.yaml feeds with shard_by: the same key.
    python3 "$root/deploy/cluster-sql.py" "$root/deploy/sql/chgate.sql" \
        --shard-key "events=cityHash64(user_id)" --shard-key "payments=cityHash64(user_id)" >"$sql"
    for url in $("$root/deploy/cluster.sh" urls "$cluster_dir"); do
        echo "run.sh: creating the example tables in $url" >&2
        "$root/deploy/apply-sql.sh" "$url" "$sql"
    done
    config="$root/config/examples/cluster.yaml"
elif [[ -n "${1:-}" ]]; then
    echo "usage: deploy/run.sh [--cluster]" >&2
    exit 2
else
    ch_dir="$root/var/clickhouse"
    started_clickhouse=0
    if [[ -z "${CLICKHOUSE_URL:-}" ]]; then
        "$root/deploy/clickhouse.sh" start "$ch_dir" "${CH_HTTP_PORT:-8123}" "${CH_TCP_PORT:-9000}"
        started_clickhouse=1
        export CLICKHOUSE_URL="$("$root/deploy/clickhouse.sh" url "$ch_dir")"
    fi
    stop_clickhouse() {
        if ((started_clickhouse)); then "$root/deploy/clickhouse.sh" stop "$ch_dir"; fi
    }
    trap stop_clickhouse EXIT
    echo "run.sh: creating the example tables in $CLICKHOUSE_URL" >&2
    "$root/deploy/apply-sql.sh" "$CLICKHOUSE_URL" "$root/deploy/sql/chgate.sql"
fi

# chgate runs in its own session: the terminal's Ctrl-C reaches this script,
# which forwards one SIGTERM, so chgate flushes instead of dying. A second
# Ctrl-C forwards SIGINT, which chgate takes as "exit now".
setsid "$root/build-release/chgate" --config "$config" &
chgate_pid=$!
signals=0
forward() {
    signals=$((signals + 1))
    if ((signals == 1)); then
        kill -TERM "$chgate_pid" 2>/dev/null || true
    else
        kill -INT "$chgate_pid" 2>/dev/null || true
    fi
}
trap forward INT TERM
while :; do
    seen=$signals
    status=0
    wait "$chgate_pid" || status=$?
    # A trapped signal interrupts wait (status > 128) while chgate is still
    # stopping; wait again for chgate's own exit status.
    if ((status > 128 && signals != seen)); then continue; fi
    break
done
echo "run.sh: chgate exited with status $status" >&2
exit "$status"
