"""chgate against its peers, single events, in one run on one machine.

    loadtest/bench.sh --peers [--seconds S] [--rounds N] [--no-kill] [--output FILE]

Every system gets the same workload as the main benchmark's scenario (a): one
analytics-example event per POST, 64 keep-alive connections, wrk with one
thread, a private ClickHouse on the same machine. Each round runs every system
once, in the same order, so the machine's drift falls on all alike; the report
has the medians and each system's ratio to nginx doing nothing in the same
round (the HTTP ceiling here).

  nginx                   answering 200 with no work
  chgate                  POST /v1/events/events, one io thread (as bench.sh):
                          ack buffered; ack durable with storage.fsync always
                          (synced before the answer) and interval (written to
                          the kernel: kill -9 safe, as persistent=1 is)
  kittenhouse             POST /?table=bench.events(...) with a VALUES row, in
                          memory, and with persistent=1 (its on-disk log)
  clickhouse-bulk         POST /?query=INSERT INTO bench.events FORMAT
                          JSONEachRow with the event (flush_count 10000,
                          flush_interval 1 s, its sample config)

Then, unless --no-kill, each is killed with SIGKILL halfway through a run and
started again on the same data: acknowledged events that never land are lost.
Rows from requests in flight at the kill may land unacknowledged, so
"acknowledged − landed" is the least that was lost.

The peers are not Debian packages: build them first from checkouts with
loadtest/peers/build.sh (binaries in build-peers/). A peer that is not built is
left out of the report, which says so.
"""

import argparse
import datetime
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import bench
from bench import DB, ROOT, fmt, log

PEERS = os.path.join(ROOT, "build-peers")
COLUMNS = ("event_id,user_id,session_id,event_type,event_timestamp,page_url,device_type,browser,"
           "country,revenue,duration_seconds")
CONNS = 64
KITTENHOUSE_TABLES = [
    "CREATE TABLE IF NOT EXISTS default.internal_logs (date Date DEFAULT toDate(time), "
    "time DateTime, server String, port Int32, type String, table String, volume Int64, "
    "message String, content String, source String, server_time DateTime DEFAULT now()) "
    "ENGINE = MergeTree PARTITION BY tuple() ORDER BY time",
    "CREATE TABLE IF NOT EXISTS default.internal_logs_buffer AS default.internal_logs "
    "ENGINE = Buffer(default, internal_logs, 2, 10, 10, 10000000, 10000000, 100000000, 100000000)",
    "CREATE TABLE IF NOT EXISTS default.daemon_heartbeat (date Date DEFAULT toDate(time), "
    "time DateTime, daemon String, server String, port Int32, build_version String, "
    "build_commit String, config_ts DateTime, config_hash String, memory_used_bytes Int64, "
    "cpu_user_avg Float32, cpu_sys_avg Float32, server_time DateTime DEFAULT now()) "
    "ENGINE = ReplacingMergeTree(server_time) PARTITION BY date ORDER BY (daemon, server, port)",
    "CREATE TABLE IF NOT EXISTS default.daemon_heartbeat_buffer AS default.daemon_heartbeat "
    "ENGINE = Buffer(default, daemon_heartbeat, 2, 15, 15, 10000000, 10000000, 100000000, 100000000)",
]


class Process:
    """A peer's process, its log in the work directory."""

    def __init__(self, argv, workdir, name, port, cwd=None):
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd)
        deadline = time.monotonic() + 30
        while True:  # ready once it accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.kill()
        with open(self.log_path, errors="replace") as f:
            raise RuntimeError(f"{name} did not start:\n" + "".join(f.readlines()[-20:]))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
        self.log.close()

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


class Kittenhouse:
    def __init__(self, workdir, ch, persistent, data=None, port=None):
        self.data = data or tempfile.mkdtemp(dir=workdir, prefix="kittenhouse-")
        self.port = port or bench.free_port()
        self.persistent = persistent
        ch_addr = ch.url.split("//", 1)[1]
        self.p = Process([os.path.join(PEERS, "kittenhouse"), "-host", "127.0.0.1", "-p", str(self.port),
                          "-ch-addr", ch_addr, "-dir", self.data, "-u", "", "-g", ""], workdir,
                         "kittenhouse", self.port)

    def url(self):
        table = urllib.parse.quote(f"{DB}.events({COLUMNS})", safe="(),.")
        return (f"http://127.0.0.1:{self.port}/?table={table}"
                + ("&persistent=1" if self.persistent else ""))

    def again(self, workdir, ch):
        return Kittenhouse(workdir, ch, self.persistent, self.data, self.port)


class ClickhouseBulk:
    def __init__(self, workdir, ch, data=None, port=None):
        self.data = data or tempfile.mkdtemp(dir=workdir, prefix="clickhouse-bulk-")
        self.port = port or bench.free_port()
        config = os.path.join(self.data, "config.json")
        with open(config, "w") as f:
            f.write(f'{{"listen": "127.0.0.1:{self.port}", "flush_count": 10000, '
                    f'"flush_interval": 1000, "clean_interval": 0, "remove_query_id": true, '
                    f'"dump_check_interval": 300, "debug": false, "dump_dir": "dumps", '
                    f'"clickhouse": {{"down_timeout": 60, "connect_timeout": 10, '
                    f'"servers": ["{ch.url}"]}}}}')
        self.p = Process([os.path.join(PEERS, "clickhouse-bulk"), "-config", config], workdir,
                         "clickhouse-bulk", self.port, cwd=self.data)

    def url(self):
        return (f"http://127.0.0.1:{self.port}/?query="
                + urllib.parse.quote(f"INSERT INTO {DB}.events FORMAT JSONEachRow"))

    def again(self, workdir, ch):
        return ClickhouseBulk(workdir, ch, self.data, self.port)


class ChgatePeer:
    def __init__(self, workdir, ch, ack, fsync="always", name=None):
        self.ack, self.fsync = ack, fsync
        self.name = name or f"peers-{ack}-{fsync}-{time.monotonic_ns()}"
        self.g = bench.Chgate(workdir, self.name, ch, {"events": bench.table_config(ack)}, 1, fsync)
        self.p = self

    def url(self):
        return self.g.url("/v1/events/events")

    def stop(self):
        self.g.stop()

    def kill(self):
        self.g.proc.kill()
        self.g.proc.wait()

    def again(self, workdir, ch):
        return ChgatePeer(workdir, ch, self.ack, self.fsync, self.name)


def bodies(workdir):
    """The one event as JSON (chgate, nginx), as a JSONEachRow line without a
    newline (clickhouse-bulk keeps each POST body as one row) and as a VALUES
    tuple (kittenhouse)."""
    obj, _ = bench.write_body(workdir, "one", 1, "object")
    values = os.path.join(workdir, "body-values-one")
    with open(values, "w") as f:
        f.write(bench.values_row(0, "one"))
    return {"json": (obj, "application/json"), "values": (values, "text/plain")}


def systems(have):
    """(key, label, body kind, factory) of every system to run."""
    out = [("chgate-buffered", "chgate, ack buffered", "json",
            lambda w, ch: ChgatePeer(w, ch, "buffered")),
           ("chgate-durable", "chgate, ack durable", "json",
            lambda w, ch: ChgatePeer(w, ch, "durable")),
           # Written to the kernel, not synced per request: safe from a crash
           # or kill -9 but not from power loss, as kittenhouse's persistent=1.
           ("chgate-durable-interval", "chgate, ack durable, fsync interval", "json",
            lambda w, ch: ChgatePeer(w, ch, "durable", "interval"))]
    if "kittenhouse" in have:
        out += [("kittenhouse", "kittenhouse, in memory (VALUES)", "values",
                 lambda w, ch: Kittenhouse(w, ch, False)),
                ("kittenhouse-persistent", "kittenhouse, persistent=1 (VALUES)", "values",
                 lambda w, ch: Kittenhouse(w, ch, True))]
    if "clickhouse-bulk" in have:
        out.append(("clickhouse-bulk", "clickhouse-bulk (JSONEachRow)", "json",
                    lambda w, ch: ClickhouseBulk(w, ch)))
    return out


def run_one(key, label, body, factory, workdir, ch, seconds):
    log(f"{label}")
    ch.reset()
    s = factory(workdir, ch)
    try:
        start = time.monotonic()
        w = bench.wrk(s.url(), body[0], body[1], CONNS, seconds)
        landed, t = bench.wait_landed(ch, "events", w["accepted"], start)
    finally:
        s.p.stop()
    row = {"key": key, "label": label, "requests_per_s": w["requests"] / w["seconds"],
           "accepted_per_s": w["accepted"] / w["seconds"], "rejected": w["status_errors"],
           "rejected_share": w["status_errors"] / max(1, w["requests"]),
           "landed_per_s": landed / max(t, w["seconds"]), "lost": max(0, w["accepted"] - landed),
           "p99_ms": w["p99_us"] / 1000}
    log(f"  {row['accepted_per_s']:.0f} accepted/s, landed/s {row['landed_per_s']:.0f}, "
        f"rejected {row['rejected']}")
    return row


def run_nginx(workdir, ch, body, seconds):
    log("nginx, 200 with no work")
    n = bench.Nginx(tempfile.mkdtemp(dir=workdir, prefix="nginx-"))
    try:
        w = bench.wrk(f"http://127.0.0.1:{n.port}/v1/events/events", body[0], body[1], CONNS, seconds)
    finally:
        n.stop()
    log(f"  {w['accepted'] / w['seconds']:.0f} requests/s")
    return {"key": "nginx", "label": "nginx, 200 with no work",
            "requests_per_s": w["requests"] / w["seconds"],
            "accepted_per_s": w["accepted"] / w["seconds"], "rejected": w["status_errors"],
            "rejected_share": 0.0, "landed_per_s": None, "lost": 0, "p99_ms": w["p99_us"] / 1000}


def run_kill(key, label, body, factory, workdir, ch, seconds):
    """Load for `seconds`, SIGKILL halfway, start again on the same data, count."""
    log(f"kill -9: {label}")
    ch.reset()
    s = factory(workdir, ch)
    killer = threading.Timer(seconds / 2, s.p.kill)
    killer.start()
    try:
        start = time.monotonic()
        w = bench.wrk(s.url(), body[0], body[1], CONNS, seconds)
    finally:
        killer.join()
    again = s.again(workdir, ch)  # replays what it kept, if it kept anything
    try:
        landed, _ = bench.wait_landed(ch, "events", w["accepted"], start, settle=5.0)
    finally:
        again.p.stop()
    # At most one request per connection was in flight at the kill; rows
    # beyond those landed twice (sent again after the restart).
    row = {"key": key, "label": label, "acknowledged": w["accepted"], "landed": landed,
           "lost": max(0, w["accepted"] - landed), "twice": max(0, landed - w["accepted"] - CONNS)}
    log(f"  acknowledged {row['acknowledged']}, landed {landed}, lost at least {row['lost']}")
    return row


def report(args, ch, rounds, kills, have, versions):
    today = datetime.date.today().isoformat()
    L = [f"# chgate against its peers, single events ({today})", "",
         f"- Machine: {bench.machine(ch)}",
         f"- Command: `loadtest/bench.sh --peers --seconds {args.seconds} --rounds {args.rounds}"
         f"{' --no-kill' if args.no_kill else ''}`",
         f"- Workload: one analytics-example event (about 260 bytes) per POST, {CONNS} keep-alive "
         "connections, wrk with one thread; landed = rows counted in ClickHouse after each run, "
         "over the time from the first request to the last row landing. Each round runs every "
         "system once, in the order of the table.",
         "- chgate: Release build, one io thread, table `events` hybrid (50,000 rows / 500 ms), "
         "compression none, storage.fsync always unless the row says interval (written to the "
         "kernel before the answer, synced every second: safe from kill -9, not from power "
         "loss). kittenhouse's persistent=1 writes its file without syncing it. The Go peers "
         "use both cores (GOMAXPROCS default).",
         "- Peers built by `loadtest/peers/build.sh` from: " + ("; ".join(versions) or "–") + ".",
         ""]
    missing = [p for p in ("kittenhouse", "clickhouse-bulk") if p not in have]
    if missing:
        L += [f"- Not built, so not run: {', '.join(missing)} (see loadtest/peers/build.sh).", ""]
    keys = [r["key"] for r in rounds[0]]
    labels = {r["key"]: r["label"] for r in rounds[0]}
    by = {k: [next(r for r in rnd if r["key"] == k) for rnd in rounds] for k in keys}
    nginx = statistics.median(r["requests_per_s"] for r in by["nginx"])
    L += ["## Single events (medians of the rounds)", "",
          "| system | accepted events/s | landed events/s | ÷ nginx | rejected | p99 ms | "
          "lost | per round, landed ÷ that round's nginx |",
          "|---|---|---|---|---|---|---|---|"]
    for k in keys:
        rows = by[k]
        landed = [r["landed_per_s"] for r in rows if r["landed_per_s"] is not None]
        med_landed = statistics.median(landed) if landed else None
        per_round = []
        for i, r in enumerate(rows):
            base = by["nginx"][i]["requests_per_s"]
            value = r["landed_per_s"] if r["landed_per_s"] is not None else r["requests_per_s"]
            per_round.append(f"{value / base:.2f}")
        value = med_landed if med_landed is not None else nginx
        rej = sum(r["rejected"] for r in rows)
        share = statistics.median(r["rejected_share"] for r in rows)
        L.append(f"| {labels[k]} | {fmt(statistics.median(r['accepted_per_s'] for r in rows))} | "
                 f"{fmt(med_landed) if med_landed is not None else '–'} | {value / nginx:.2f} | "
                 f"{fmt(rej)}{f' ({share * 100:.0f}%)' if rej else ''} | "
                 f"{statistics.median(r['p99_ms'] for r in rows):.1f} | "
                 f"{sum(r['lost'] for r in rows)} | {', '.join(per_round)} |")
    base = {k: statistics.median(r["landed_per_s"] for r in by[k]) for k in keys if k != "nginx"}
    peers = [k for k in base if not k.startswith("chgate")]
    if peers:
        L += ["", "## Ratios (landed events/s, medians)", "",
              "| chgate ÷ | " + " | ".join(labels[k] for k in peers) + " |",
              "|---|" + "---|" * len(peers)]
        for k in (k for k in base if k.startswith("chgate")):
            L.append(f"| {labels[k]} | " + " | ".join(
                f"{base[k] / base[p]:.2f}" if base[p] else "–" for p in peers) + " |")
    if kills:
        L += ["", f"## Killed with SIGKILL halfway through a {args.seconds} s run, then started "
              "again on the same data", "",
              "Rows of requests in flight at the kill can land without an answer, so "
              "acknowledged − landed is the least that was lost; at most one request per "
              f"connection ({CONNS}) was in flight, so rows beyond acknowledged + {CONNS} "
              "landed twice.", "",
              "| system | acknowledged | landed | lost (at least) | landed twice (at least) |",
              "|---|---|---|---|---|"]
        for r in kills:
            L.append(f"| {r['label']} | {fmt(r['acknowledged'])} | {fmt(r['landed'])} | "
                     f"{fmt(r['lost'])} | {fmt(r['twice'])} |")
    return "\n".join(L) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=int, default=10, help="per wrk run (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--no-kill", action="store_true", help="leave out the SIGKILL runs")
    ap.add_argument("--output", default=None,
                    help="report file (default loadtest/results/DATE-peers.md)")
    args = ap.parse_args(argv)
    have = [p for p in ("kittenhouse", "clickhouse-bulk") if os.access(os.path.join(PEERS, p), os.X_OK)]
    versions = []
    try:
        with open(os.path.join(PEERS, "VERSIONS")) as f:
            versions = [line.strip() for line in f if line.strip()]
    except OSError:
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    workdir = tempfile.mkdtemp(prefix="chgate-peers-")
    ch = None
    try:
        ch = bench.ClickHouse(workdir)
        ch.query(f"CREATE DATABASE IF NOT EXISTS {DB}")
        bench.sh(os.path.join(ROOT, "deploy", "apply-sql.sh"), ch.url,
                 os.path.join(ROOT, "deploy", "sql", "chgate.sql"), DB, capture_output=True)
        if "kittenhouse" in have:
            # Where kittenhouse writes its own logs and heartbeats (its README's
            # tables, not replicated), so that it does not retry them all run.
            for sql in KITTENHOUSE_TABLES:
                ch.query(sql)
        body = bodies(workdir)
        rounds, kills = [], []
        for i in range(args.rounds):
            log(f"round {i + 1} of {args.rounds}")
            rnd = [run_nginx(workdir, ch, body["json"], args.seconds)]
            for key, label, kind, factory in systems(have):
                rnd.append(run_one(key, label, body[kind], factory, workdir, ch, args.seconds))
            rounds.append(rnd)
        if not args.no_kill:
            for key, label, kind, factory in systems(have):
                kills.append(run_kill(key, label, body[kind], factory, workdir, ch, args.seconds))
        text = report(args, ch, rounds, kills, have, versions)
    finally:
        if ch:
            ch.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(text)
    out = args.output or os.path.join(ROOT, "loadtest", "results",
                                      f"{datetime.date.today().isoformat()}-peers.md")
    with open(out, "w") as f:
        f.write(text)
    log(f"written to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
