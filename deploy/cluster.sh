#!/usr/bin/env bash
# Runs a real ClickHouse cluster on loopback: Debian's ZooKeeper and four
# clickhouse-server processes as 2 shards x 2 replicas, every file under DIR.
# The same cluster the scale-out tests use; for trying sharding by hand.
#
#   deploy/cluster.sh start DIR [--test] [--base-port P]
#       Starts ZooKeeper (DIR/zookeeper) and the servers (DIR/s1r1, DIR/s1r2,
#       DIR/s2r1, DIR/s2r2), each with remote_servers (the cluster is named
#       "chgate_cluster"), macros {shard} and {replica}, and zookeeper in its
#       config (and "chgate_weighted": the same shards, weights 2 and 1).
#       Returns once all answer. Writes DIR/shards: one line per shard,
#       its replicas' HTTP URLs separated by spaces. --test as in clickhouse.sh.
#       Ports are free ones, or with --base-port P: HTTP P to P+3 (s1r1, s1r2,
#       s2r1, s2r2), native P+10 to P+13, interserver P+20 to P+23, and
#       ZooKeeper P+30.
#   deploy/cluster.sh stop DIR
#       Stops the servers, then ZooKeeper.
#   deploy/cluster.sh stop-zookeeper DIR | start-zookeeper DIR
#       Stops or restarts ZooKeeper alone (replicated tables turn read-only
#       while it is away).
#   deploy/cluster.sh urls DIR
#       Prints DIR/shards.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
die() { echo "cluster.sh: $*" >&2; exit 1; }
# shellcheck source=deploy/lib.sh
source "$here/lib.sh"
replicas=(s1r1 s1r2 s2r1 s2r2)

zk_ok() {
    python3 - "$1" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
    s.sendall(b"ruok")
    sys.exit(0 if s.recv(4) == b"imok" else 1)
except OSError:
    sys.exit(1)
PY
}

start_zookeeper() {
    local dir="$1/zookeeper"
    is_running "$dir/pid" && return 0
    [[ -d /usr/share/zookeeper || -f /usr/share/java/zookeeper.jar ]] ||
        die "zookeeper is not installed (run deploy/install-deps.sh)"
    mkdir -p "$dir/data" "$dir/log"
    [[ -f "$dir/port" ]] || free_port >"$dir/port"
    local port
    port="$(cat "$dir/port")"
    cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
maxClientCnxns=0
CFG
    # -Dzookeeper.log.dir: its own log, not /var/log/zookeeper.
    setsid java -Xmx256m -Dzookeeper.log.dir="$dir/log" -Dzookeeper.root.logger=WARN,CONSOLE \
        -cp '/usr/share/java/*:/etc/zookeeper/conf' \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >"$dir/log/stdout.log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 300); do
        zk_ok "$port" && { echo "ZooKeeper on 127.0.0.1:$port" >&2; return 0; }
        is_running "$dir/pid" || { tail -20 "$dir/log/stdout.log" >&2; die "ZooKeeper exited during start"; }
        sleep 0.1
    done
    die "ZooKeeper did not answer within 30 s; see $dir/log"
}

# The config every server shares, but for its macros and interserver port.
write_cluster_config() {  # DIR NAME SHARD INTERSERVER_PORT
    local dir="$1" name="$2" shard="$3" interserver="$4"
    local servers="" weighted="" replicas_of s r
    for s in 1 2; do
        replicas_of=""
        for r in 1 2; do
            replicas_of+="<replica><host>127.0.0.1</host><port>$(cat "$dir/s${s}r${r}/tcp_port")</port></replica>"
        done
        servers+="<shard><internal_replication>true</internal_replication>$replicas_of</shard>"
        weighted+="<shard><weight>$((3 - s))</weight><internal_replication>true</internal_replication>$replicas_of</shard>"
    done
    mkdir -p "$dir/$name/config.d"
    cat >"$dir/$name/config.d/cluster.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>$interserver</interserver_http_port>
  <zookeeper><node><host>127.0.0.1</host><port>$(cat "$dir/zookeeper/port")</port></node>
    <session_timeout_ms>10000</session_timeout_ms></zookeeper>
  <remote_servers><chgate_cluster>$servers</chgate_cluster>
    <chgate_weighted>$weighted</chgate_weighted></remote_servers>
  <macros><cluster>chgate_cluster</cluster><shard>0$shard</shard><replica>$name</replica></macros>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
XML
}

cmd_start() {
    local dir="$1" base="" pass=()
    shift
    while (($#)); do
        case "$1" in
            --base-port) base="${2:-}"; [[ "$base" =~ ^[0-9]+$ ]] || die "--base-port needs a port"; shift 2 ;;
            *) pass+=("$1"); shift ;;
        esac
    done
    mkdir -p "$dir/zookeeper"
    dir="$(cd "$dir" && pwd)"
    [[ -z "$base" ]] || echo $((base + 30)) >"$dir/zookeeper/port"
    start_zookeeper "$dir"
    local name i=0 kind
    # Ports first: every server's remote_servers names all four.
    for name in "${replicas[@]}"; do
        mkdir -p "$dir/$name"
        for kind in http:0 tcp:10 interserver:20; do
            local file="$dir/$name/${kind%%:*}_port"
            if [[ -n "$base" ]]; then
                echo $((base + ${kind##*:} + i)) >"$file"
            elif [[ ! -f "$file" ]]; then
                free_port >"$file"
            fi
        done
        i=$((i + 1))
    done
    for name in "${replicas[@]}"; do
        write_cluster_config "$dir" "$name" "${name:1:1}" "$(cat "$dir/$name/interserver_port")"
        "$here/clickhouse.sh" start "$dir/$name" "$(cat "$dir/$name/http_port")" \
            "$(cat "$dir/$name/tcp_port")" "${pass[@]}"
    done
    {
        echo "http://127.0.0.1:$(cat "$dir/s1r1/http_port") http://127.0.0.1:$(cat "$dir/s1r2/http_port")"
        echo "http://127.0.0.1:$(cat "$dir/s2r1/http_port") http://127.0.0.1:$(cat "$dir/s2r2/http_port")"
    } >"$dir/shards"
}

cmd_stop() {
    local dir="$1" name pids=()
    # In parallel: each server takes a few seconds to close its replicated tables.
    for name in "${replicas[@]}"; do
        if [[ -d "$dir/$name" ]]; then
            "$here/clickhouse.sh" stop "$dir/$name" &
            pids+=($!)
        fi
    done
    local pid status=0
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    stop_pidfile "$dir/zookeeper/pid" ZooKeeper
    return "$status"
}

case "${1:-}" in
    start) shift; [[ $# -ge 1 ]] || die "usage: start DIR [--test]"; cmd_start "$@" ;;
    stop) [[ $# -eq 2 ]] || die "usage: stop DIR"; cmd_stop "$2" ;;
    stop-zookeeper) [[ $# -eq 2 ]] || die "usage: stop-zookeeper DIR"; stop_pidfile "$2/zookeeper/pid" ZooKeeper ;;
    start-zookeeper) [[ $# -eq 2 ]] || die "usage: start-zookeeper DIR"; start_zookeeper "$(cd "$2" && pwd)" ;;
    urls) [[ $# -eq 2 ]] || die "usage: urls DIR"; cat "$2/shards" ;;
    *) die "usage: $0 start|stop|stop-zookeeper|start-zookeeper|urls DIR" ;;
esac
