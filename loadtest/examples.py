#!/usr/bin/env python3
"""Plays an example deployment's traffic (config/examples/) against chgate at
the rates its clients send, for --seconds, and reports what was sent, what
landed and the request latencies. Starts its own ClickHouse and chgate (the
example's config as shipped, in a database of its own). Not a test: a load
scenario to watch, and to measure with.

  loadtest/examples.py analytics|metrics|dagster [--seconds 30] [--output FILE]

- analytics: a bulk load of 10k users and 1k products, then a streamer
  posting 100 events/s and 20 orders/s, one per request;
- metrics: four writers, each posting a batch of 100-1000 rows a second to
  one of the four time series;
- dagster: four writers posting bursts of 1-5 event-log messages every 50 ms,
  and a round of asset materialisations every 2 s.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import example_traffic as traffic  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("CHGATE_BIN", os.path.join(ROOT, "build-release", "chgate"))
# Each client's token, by the variable the example's config reads it from.
TOKENS = {"ANALYTICS_STREAMER_TOKEN": "streamer-load-token-3f9d0b7e1c5a2468",
          "ANALYTICS_LOADER_TOKEN": "loader-load-token-8a1e6c3b0d9f4725",
          "METRICS_COLLECTOR_TOKEN": "collector-load-token-5b2d8e0a7c3f1946",
          "METRICS_BILLING_TOKEN": "billing-load-token-0e7c4a9d2b6f8351",
          "DAGSTER_TOKEN": "dagster-load-token-9c3f5e1a7d0b2864"}


def query(url, sql):
    with urllib.request.urlopen(urllib.request.Request(url + "/", data=sql.encode()), timeout=60) as r:
        return r.read().decode()


class Client:
    """One keep-alive connection to chgate; records each request's latency."""

    def __init__(self, port, stats, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.stats, self.token = stats, TOKENS[token]

    def post(self, table, rows):
        body = "\n".join(json.dumps(r) for r in rows) + "\n"
        t0 = time.monotonic()
        self.conn.request("POST", f"/v1/events/{table}", body,
                          {"Authorization": f"Bearer {self.token}", "Content-Type": "application/x-ndjson"})
        r = self.conn.getresponse()
        r.read()
        self.stats.record(table, len(rows), r.status, time.monotonic() - t0)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent, self.refused, self.latencies = {}, {}, []

    def record(self, table, rows, status, seconds):
        with self.lock:
            if status == 202:
                self.sent[table] = self.sent.get(table, 0) + rows
            else:
                self.refused[table] = self.refused.get(table, 0) + rows
            self.latencies.append(seconds)


def paced(seconds, every, step):
    """Calls step(i) every `every` seconds until `seconds` have passed."""
    start, i = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        step(i)
        i += 1
        time.sleep(max(0.0, start + i * every - time.monotonic()))


def play(name, port, seconds, stats):
    rnd = random.Random(1)
    threads = []
    if name == "analytics":
        c = Client(port, stats, "ANALYTICS_LOADER_TOKEN")
        for start in range(0, 10_000, 2_500):
            c.post("users", traffic.users(start, 2_500, rnd))
        c.post("products", traffic.products(1_000))
        e = Client(port, stats, "ANALYTICS_STREAMER_TOKEN")
        o = Client(port, stats, "ANALYTICS_STREAMER_TOKEN")
        threads.append(lambda: paced(seconds, 0.01, lambda i: e.post("events", traffic.events(i, 1, rnd))))
        threads.append(lambda: paced(seconds, 0.05, lambda i: o.post("orders", traffic.orders(i, 1, rnd))))
    elif name == "metrics":
        for table in ("performance_metrics_ts", "resource_metrics_ts", "cost_metrics_ts", "quality_metrics_ts"):
            token = "METRICS_BILLING_TOKEN" if table == "cost_metrics_ts" else "METRICS_COLLECTOR_TOKEN"
            c, r = Client(port, stats, token), random.Random(table)
            threads.append(lambda c=c, r=r, table=table: paced(
                seconds, 1.0, lambda i: c.post(table, traffic.metrics(table, i * 1000, r.randrange(100, 1001), r))))
    else:
        for w in range(4):
            c = Client(port, stats, "DAGSTER_TOKEN")
            threads.append(lambda c=c, w=w: paced(
                seconds, 0.05, lambda i: c.post("event_logs", traffic.run_events(w, i, 1 + i % 5))))
        m = Client(port, stats, "DAGSTER_TOKEN")
        threads.append(lambda: paced(seconds, 2.0, lambda i: m.post("asset_keys", traffic.materializations(i))))
    running = [threading.Thread(target=t) for t in threads]
    for t in running:
        t.start()
    for t in running:
        t.join()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("example", choices=["analytics", "metrics", "dagster"])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--output", default=None)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="chgate-examples-")
    ch_dir = os.path.join(work, "clickhouse")
    subprocess.run([os.path.join(ROOT, "deploy", "clickhouse.sh"), "start", ch_dir], check=True,
                   capture_output=True)
    gate = None
    try:
        with open(os.path.join(ch_dir, "http_port")) as f:
            ch = f"http://127.0.0.1:{f.read().strip()}"
        db = f"example_{args.example}"
        query(ch, f"CREATE DATABASE IF NOT EXISTS {db}")
        with open(os.path.join(ROOT, "config", "examples", f"{args.example}.yaml")) as f:
            cfg = yaml.safe_load(f)
        cfg["clickhouse"]["database"] = db
        cfg["storage"] = {"dir": os.path.join(work, "storage")}
        path = os.path.join(work, "chgate.yaml")
        with open(path, "w") as f:
            json.dump(cfg, f)
        env = dict(os.environ, CHGATE_LISTEN="127.0.0.1:0", CLICKHOUSE_URL=ch,
                   CHGATE_SQL_DIR=os.path.join(ROOT, "deploy", "sql", "examples"),
                   **TOKENS)
        gate = subprocess.Popen([BIN, "--config", path], stderr=subprocess.PIPE, text=True, env=env)
        port, log = None, []
        for line in gate.stderr:
            log.append(line)
            if "listening on" in line:
                port = int(line.rsplit(":", 1)[1].split()[0])
            if "ready: replayed" in line:
                break
        if gate.poll() is not None or port is None:
            raise SystemExit("chgate did not start:\n" + "".join(log))
        threading.Thread(target=lambda: [None for _ in gate.stderr], daemon=True).start()
        time.sleep(2)  # the tables created, their columns read
        stats = Stats()
        t0 = time.monotonic()
        play(args.example, port, args.seconds, stats)
        played = time.monotonic() - t0
        # A ReplacingMergeTree keeps the latest row per key once merged: its
        # rows are shown, not counted against what was sent.
        replacing = {t for t in stats.sent if "Replacing" in query(
            ch, f"SELECT engine FROM system.tables WHERE database = '{db}' AND name = '{t}'")}
        counted = [t for t in stats.sent if t not in replacing]
        deadline = time.monotonic() + 60
        landed = {}
        while time.monotonic() < deadline:
            landed = {t: int(query(ch, f"SELECT count() FROM {db}.{t}")) for t in counted}
            if all(landed[t] >= stats.sent[t] for t in counted):
                break
            time.sleep(0.5)
        for t in replacing:
            landed[t] = f"{int(query(ch, f'SELECT count() FROM {db}.{t} FINAL'))} (latest per key)"
        lat = sorted(stats.latencies)
        pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0
        lines = [f"# The {args.example} example's traffic ({datetime.date.today().isoformat()})", "",
                 f"- Command: `loadtest/examples.py {args.example} --seconds {args.seconds}`",
                 f"- Played for {played:.1f} s: {len(lat)} requests, p50 {pct(0.5):.1f} ms, "
                 f"p99 {pct(0.99):.1f} ms", "", "| table | rows accepted | rows refused | rows landed |",
                 "|---|---|---|---|"]
        for t in sorted(stats.sent):
            lines.append(f"| {t} | {stats.sent[t]} | {stats.refused.get(t, 0)} | {landed.get(t, 0)} |")
        text = "\n".join(lines) + "\n"
        print(text)
        if args.output:
            with open(args.output, "w") as f:
                f.write(text)
        return 0 if all(landed.get(t, 0) == stats.sent[t] for t in counted) else 1
    finally:
        if gate:
            gate.terminate()
            gate.wait(timeout=60)
        subprocess.run([os.path.join(ROOT, "deploy", "clickhouse.sh"), "stop", ch_dir], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
