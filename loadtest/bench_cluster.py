"""The cluster benchmark: feeding a 2 x 2 ClickHouse cluster, in one run.

    loadtest/bench.sh --scenarios cluster [--seconds S] [--output FILE]

Starts the test cluster (deploy/cluster.sh: ZooKeeper and four
clickhouse-server processes as 2 shards x 2 replicas), creates the analytics
example's events table as events_local (ReplicatedMergeTree) on every server
and events (Distributed, sharded by cityHash64(user_id)), then drives with
chgate-load (unique events, random user ids):

  shard_by     chgate computes each row's shard and inserts into events_local
               on a replica of it
  distributed  chgate inserts into events with insert_distributed_sync=1
  direct       1000-row INSERTs posted straight to events on one server, as
               ClickHouse's own clients would (the Distributed table queues
               them for the shards)

each with single events (64 connections) and 1000-row NDJSON bodies (8
connections), except direct, which only takes 1000-row bodies. An event
counts as landed once a SELECT through the Distributed table sees it. For
each: landed rows/s, and CPU seconds per million landed rows of the four
ClickHouse servers together and of chgate. Writes
loadtest/results/DATE-cluster.md and prints it.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request

import bench

DB = "bench"
CLUSTER = os.path.join(bench.ROOT, "deploy", "cluster.sh")
TABLE_SQL = f"""
CREATE TABLE {DB}.events_local (
    event_id String, user_id UInt64, session_id String, event_type String,
    event_timestamp DateTime, page_url String, device_type String, browser String,
    country String, revenue Float64, duration_seconds UInt32
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{DB}.events_local', '{{replica}}')
ORDER BY (event_type, user_id, event_timestamp)
"""
DISTRIBUTED_SQL = (f"CREATE TABLE {DB}.events AS {DB}.events_local "
                   f"ENGINE = Distributed(chgate_cluster, {DB}, events_local, cityHash64(user_id))")


class Server:
    def __init__(self, url, pid_file):
        self.url, self.pid_file = url, pid_file

    def query(self, sql):
        req = urllib.request.Request(self.url + "/", data=sql.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.read().decode()

    def cpu(self):
        with open(self.pid_file) as f:
            return bench.proc_cpu(int(f.read().strip()))


class Cluster:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "cluster")
        bench.sh(CLUSTER, "start", self.dir, "--test", capture_output=True)
        self.shards = []
        with open(os.path.join(self.dir, "shards")) as f:
            for line in f:
                if line.strip():
                    self.shards.append(line.split())
        self.servers = []
        for i, urls in enumerate(self.shards):
            for j, url in enumerate(urls):
                self.servers.append(Server(url, os.path.join(self.dir, f"s{i + 1}r{j + 1}", "pid")))
        self.version = self.servers[0].query("SELECT version()").strip()

    def reset(self):
        for s in self.servers:
            s.query(f"DROP DATABASE IF EXISTS {DB}")
            s.query(f"CREATE DATABASE {DB}")
            s.query(TABLE_SQL)
            s.query(DISTRIBUTED_SQL)

    def count(self, _table="events"):
        return int(self.servers[0].query(f"SELECT count() FROM {DB}.events").strip())

    def cpu(self):
        return sum(s.cpu() for s in self.servers)

    def stop(self):
        bench.sh(CLUSTER, "stop", self.dir, capture_output=True)


def gate_tables(mode):
    table = {"strategy": "hybrid", "max_batch_size": 50000, "max_batch_time": "500ms",
             "max_memory": "128MiB", "ack": "buffered", "compression": "gzip"}
    if mode == "shard_by":
        table.update(shard_by="cityHash64(user_id)", local_table="events_local")
    else:
        table.update(distributed=True)
    return {"events": table}


def run(cluster, workdir, mode, events, seconds):
    """One case: returns its row of the report."""
    conns = 64 if events == 1 else 8
    cluster.reset()
    gate = None
    if mode == "direct":
        target = cluster.shards[0][0].removeprefix("http://")
        table = f"{DB}.events"
        endpoint = "clickhouse"
    else:
        clickhouse = {"cluster": {"shards": [{"weight": 1, "replicas": urls} for urls in cluster.shards]},
                      "max_concurrent_inserts": 4}
        gate = bench.Chgate(workdir, f"{mode}-{events}", cluster.servers[0], gate_tables(mode), 0,
                            clickhouse=clickhouse)
        target = f"127.0.0.1:{gate.port}"
        table = "events"
        endpoint = "events"
    bench.log(f"cluster: {mode}, {events} event(s) per request, {conns} connections")
    ch_cpu0 = cluster.cpu()
    gate_cpu0 = bench.proc_cpu(gate.proc.pid) if gate else 0.0
    start = time.monotonic()
    args = [bench.LOAD, "--url", target, "--table", table, "--endpoint", endpoint,
            "--connections", str(conns), "--events", str(events), "--duration", str(seconds), "--json"]
    if events > 1:
        args.append("--ndjson")
    load = json.loads(bench.sh(*args, capture_output=True).stdout)
    accepted = load["accepted_events"]
    landed, t = bench.wait_landed(cluster, "events", accepted, start, settle=3.0, timeout=180)
    ch_cpu = cluster.cpu() - ch_cpu0
    gate_cpu = (bench.proc_cpu(gate.proc.pid) - gate_cpu0) if gate else 0.0
    inserts = None
    if gate:
        inserts = gate.metrics()["tables"]["events"]["batches_inserted"]
        gate.stop()
    row = {"mode": mode, "events": events, "connections": conns, "accepted": accepted,
           "landed": landed, "seconds": max(t, load["seconds"]),
           "landed_per_s": landed / max(t, load["seconds"]),
           "requests_per_s": load["requests_per_second"], "p99_ms": load["p99_ms"],
           "ch_cpu_per_m": ch_cpu * 1e6 / max(1, landed),
           "gate_cpu_per_m": gate_cpu * 1e6 / max(1, landed) if gate else None,
           "inserts": inserts, "failed": load["failed"] + load["rejected"] + load["transport_errors"]}
    bench.log(f"  landed/s {row['landed_per_s']:.0f}, ClickHouse CPU s/M rows {row['ch_cpu_per_m']:.1f}")
    return row


def report(rows, cluster, args):
    L = [f"# Cluster benchmark, {datetime.date.today().isoformat()}", "",
         f"- Command: `loadtest/bench.sh --scenarios cluster --seconds {args.seconds}`",
         f"- Machine: {os.cpu_count()} cores ({platform.machine()}), shared by ZooKeeper, four "
         f"ClickHouse {cluster.version} servers (2 shards x 2 replicas), chgate and the load "
         "generator; compare only within this run.",
         "- Load: chgate-load, unique analytics events with random user ids; 1 event per POST "
         "over 64 connections, or 1000-row NDJSON POSTs over 8 connections.",
         "- Landed: counted through the Distributed table once the count stops moving. CPU: "
         "the four clickhouse-server processes together, and chgate, per million landed rows.",
         "",
         "| mode | events/POST | accepted | landed | landed rows/s | ClickHouse CPU s / M rows | "
         "chgate CPU s / M rows | chgate INSERTs | p99 ms | errors |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gate_cpu = "" if r["gate_cpu_per_m"] is None else f"{r['gate_cpu_per_m']:.1f}"
        inserts = "" if r["inserts"] is None else r["inserts"]
        L.append(f"| {r['mode']} | {r['events']} | {r['accepted']} | {r['landed']} | "
                 f"{r['landed_per_s']:.0f} | {r['ch_cpu_per_m']:.1f} | {gate_cpu} | {inserts} | "
                 f"{r['p99_ms']:.1f} | {r['failed']} |")
    by = {(r["mode"], r["events"]): r for r in rows}
    L += ["", "Ratios within this run:", ""]
    for events in (1, 1000):
        s, d = by.get(("shard_by", events)), by.get(("distributed", events))
        if s and d:
            L.append(f"- {events} event(s) per POST: shard_by ÷ distributed, landed rows/s "
                     f"{s['landed_per_s'] / d['landed_per_s']:.2f}; ClickHouse CPU per row "
                     f"{s['ch_cpu_per_m'] / d['ch_cpu_per_m']:.2f}")
    direct = by.get(("direct", 1000))
    for mode in ("shard_by", "distributed"):
        r = by.get((mode, 1000))
        if r and direct:
            L.append(f"- 1000 rows per POST: {mode} ÷ direct INSERTs into the Distributed table, "
                     f"landed rows/s {r['landed_per_s'] / direct['landed_per_s']:.2f}; ClickHouse "
                     f"CPU per row {r['ch_cpu_per_m'] / direct['ch_cpu_per_m']:.2f}")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default="cluster")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--output", default=None)
    args = ap.parse_args()
    if args.scenarios != "cluster":
        sys.exit("bench_cluster.py: --scenarios cluster only")
    workdir = tempfile.mkdtemp(prefix="chgate-bench-cluster-")
    cluster = Cluster(workdir)
    rows = []
    try:
        for mode, events in (("shard_by", 1), ("distributed", 1), ("shard_by", 1000),
                             ("distributed", 1000), ("direct", 1000)):
            rows.append(run(cluster, workdir, mode, events, args.seconds))
    finally:
        cluster.stop()
    text = report(rows, cluster, args)
    out = args.output or os.path.join(bench.ROOT, "loadtest", "results",
                                      f"{datetime.date.today().isoformat()}-cluster.md")
    with open(out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
