"""chgate against its baselines, in one run on one machine (issue 4).

    loadtest/bench.sh [--seconds S] [--only NAME[,NAME...]] [--no-micro] [--output FILE]

Starts a private ClickHouse and nginx, then drives each system with wrk (one
thread, keep-alive connections, one fixed body per scenario):

  baselines   nginx answering 200 with no work; ClickHouse single-row INSERTs;
              ClickHouse's Buffer table; ClickHouse 1000-row INSERTs over 8
              connections
  chgate      (a) 1 event per POST, 64 connections; (b) 100 events per POST;
              (c) 1000-event NDJSON POSTs over 8 connections; (d) the
              ClickHouse-compatible endpoint, 1 event per POST; each at ack
              buffered and at ack durable
  adaptive    one table, adaptive strategy, load ramped from 100 to 50,000
              events/s (chgate-load --rate): INSERTs per second and INSERT
              latency per step
  growth      CPU seconds per million events at 1k, 10k and as many events/s
              as chgate takes
  recovery    single events with ClickHouse stopped (batches go to the spool),
              then ClickHouse back: how fast the spool drains
  micro       the Google Benchmark suite (chgate-microbench)

An event counts as landed once ClickHouse holds it: after each run the rows
are counted in ClickHouse. Writes a Markdown report (default
loadtest/results/DATE-bench.md) and prints it.

    loadtest/bench.sh --ab BIN_A,BIN_B [--rounds N] [--scenarios a] [--acks durable]

compares chgate binaries (a change against main, say) instead: each round runs
every binary once per scenario and ack, alternating, so that the machine's
drift falls on all of them alike; the report (loadtest/results/DATE-ab.md) has
the medians and each binary's ratio to the first. With both acks (the default
--acks) it also has durable ÷ buffered per round, and the median: the way to
read issue 3's ratio on a noisy machine, e.g.

    loadtest/bench.sh --ab build-release/chgate --rounds 9 --seconds 5
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ALL_PARTS = "baselines,chgate,adaptive,growth,recovery,micro"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-release")
CHGATE = os.path.join(BUILD, "chgate")
LOAD = os.path.join(BUILD, "loadtest", "chgate-load")
MICRO = os.path.join(BUILD, "loadtest", "chgate-microbench")
BEAST = os.path.join(BUILD, "loadtest", "baseline-server")
WRK_SCRIPT = os.path.join(ROOT, "loadtest", "wrk", "post.lua")
NGINX_CONF = os.path.join(ROOT, "loadtest", "wrk", "nginx-noop.conf.in")
DB = "bench"
BUFFER_MEMORY = "256MiB"  # batching.max_memory of every chgate run
BUFFER_MEMORY_MIB = 256

# ClickHouse's Buffer table in front of events: 16 layers, flushed after 10 to
# 100 s, 10k to 1M rows or 10 to 100 MB, as ClickHouse's documentation shows.
BUFFER_TABLE = (f"CREATE TABLE IF NOT EXISTS {DB}.events_buffer AS {DB}.events "
                f"ENGINE = Buffer({DB}, events, 16, 10, 100, 10000, 1000000, 10000000, 100000000)")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, **kw)


def event(i, run, iso_time=False):
    """One analytics-example event, about 260 bytes. With iso_time, its
    timestamp is ISO 8601 with milliseconds and a zone, which the DateTime
    column refuses as sent and schema: coerce rewrites."""
    types = ["page_view", "add_to_cart", "purchase", "search", "click"]
    devices = ["desktop", "mobile", "tablet"]
    countries = ["US", "DE", "GB", "FR", "IN", "BR", "JP"]
    return json.dumps({
        "event_id": f"{run}-{i:08d}", "user_id": 10000 + i * 7919 % 90000,
        "session_id": f"s-{i * 2654435761 % 2**32:08x}", "event_type": types[i % 5],
        "event_timestamp": "2026-11-22T10:30:15.123Z" if iso_time else "2026-11-22 10:30:15",
        "page_url": "https://shop.example.com/products/42",
        "device_type": devices[i % 3], "browser": "Firefox", "country": countries[i % 7],
        "revenue": round(i % 500 + 0.99, 2), "duration_seconds": i % 3600,
    }, separators=(",", ":"))


def write_body(workdir, name, events, form, iso_time=False):
    """form: object (one event), array (JSON array) or ndjson."""
    rows = [event(i, name, iso_time) for i in range(events)]
    if form == "object":
        body = rows[0]
    elif form == "array":
        body = "[" + ",".join(rows) + "]"
    else:
        body = "\n".join(rows) + "\n"
    path = os.path.join(workdir, f"body-{name}")
    with open(path, "w") as f:
        f.write(body)
    return path, len(body)


class ClickHouse:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "clickhouse")
        sh(os.path.join(ROOT, "deploy", "clickhouse.sh"), "start", self.dir, capture_output=True)
        with open(os.path.join(self.dir, "http_port")) as f:
            self.port = int(f.read().strip())
        self.url = f"http://127.0.0.1:{self.port}"
        self.version = self.query("SELECT version()").strip()

    def pid(self):
        """The server process (its CPU time is ClickHouse's cost)."""
        with open(os.path.join(self.dir, "pid")) as f:
            return int(f.read().strip())

    def query(self, sql):
        req = urllib.request.Request(self.url + "/", data=sql.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.read().decode()

    def count(self, table="events"):
        return int(self.query(f"SELECT count() FROM {DB}.{table}").strip())

    def reset(self):
        """Empties the tables between runs, so merges of one run do not slow the next."""
        self.query(f"DROP TABLE IF EXISTS {DB}.events_buffer")
        for t in ("events", "events_adaptive"):
            self.query(f"TRUNCATE TABLE IF EXISTS {DB}.{t}")

    def stop(self):
        sh(os.path.join(ROOT, "deploy", "clickhouse.sh"), "stop", self.dir, capture_output=True)

    def start_again(self):
        """After stop(): the same data, on the same ports."""
        with open(os.path.join(self.dir, "tcp_port")) as f:
            tcp_port = f.read().strip()
        sh(os.path.join(ROOT, "deploy", "clickhouse.sh"), "start", self.dir, str(self.port),
           tcp_port, capture_output=True)


class Nginx:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "nginx")
        os.makedirs(self.dir)
        self.port = free_port()
        with open(NGINX_CONF) as f:
            conf = f.read().replace("@DIR@", self.dir).replace("@PORT@", str(self.port))
        path = os.path.join(self.dir, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(["nginx", "-c", path, "-p", self.dir])
        wait_http(f"http://127.0.0.1:{self.port}/", 10)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=30)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout, method="GET"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, data=b"{}" if method == "POST" else None, method=method)
            with urllib.request.urlopen(req, timeout=1) as r:
                if 200 <= r.status < 300:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 2xx within {timeout} s")


def wrk(url, body, content_type, connections, seconds):
    env = dict(os.environ, WRK_BODY_FILE=body, WRK_CONTENT_TYPE=content_type)
    out = sh("wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
             "-s", WRK_SCRIPT, url, env=env, capture_output=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    summary["accepted"] = summary["requests"] - summary["status_errors"]
    summary["seconds"] = summary["duration_us"] / 1e6
    summary["socket_errors"] = (summary["connect_errors"] + summary["read_errors"] +
                                summary["write_errors"] + summary["timeouts"])
    return summary


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_ticks():
    """Busy and total clock ticks of the whole machine (every core), from
    /proc/stat; idle and iowait count as not busy."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def proc_sleeps(pid):
    """Times the process's threads went to sleep (voluntary context switches),
    summed over every thread."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                total += next(int(line.split()[1]) for line in f
                              if line.startswith("voluntary_ctxt_switches:"))
        except (OSError, StopIteration):
            pass  # a thread that ended meanwhile
    return total


def proc_status_kib(pid, field="VmHWM"):
    """A size from /proc/PID/status, in KiB: VmHWM (peak RSS), VmRSS (now)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def wait_landed(ch, table, at_least, start, settle=3.0, timeout=120):
    """Polls ClickHouse until `table` holds at least `at_least` rows and the
    count stops moving. Returns (rows, seconds from `start` to the last change)."""
    deadline = time.monotonic() + timeout
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = ch.count(table)
        now = time.monotonic()
        if n != last:
            last, last_change = n, now
        if n >= at_least and now - last_change >= settle:
            break
        if n < at_least and now - last_change >= 30:
            break  # nothing moved for 30 s: report what landed
        time.sleep(0.1)
    return last, last_change - start


class Chgate:
    def __init__(self, workdir, name, ch, tables, threads, fsync="always", binary=CHGATE,
                 clickhouse=None):
        self.storage = os.path.join(workdir, f"storage-{name}")
        self.port = free_port()
        config = os.path.join(workdir, f"chgate-{name}.yaml")
        with open(config, "w") as f:
            json.dump({
                "server": {"listen": f"127.0.0.1:{self.port}", "threads": threads},
                "clickhouse": {"url": ch.url, "database": DB, **(clickhouse or {})},
                "storage": {"dir": self.storage, "fsync": fsync},
                "batching": {"max_memory": BUFFER_MEMORY, "tables": tables},
                "log": {"level": "warn"},
            }, f)
        self.proc = subprocess.Popen([binary, "--config", config], stderr=subprocess.PIPE, text=True)
        self.log_tail = []
        threading.Thread(target=self._drain_log, daemon=True).start()
        try:
            wait_http(f"http://127.0.0.1:{self.port}/readyz", 30)
        except RuntimeError:
            self.proc.kill()
            raise RuntimeError("chgate did not become ready: " + "\n".join(self.log_tail))

    def _drain_log(self):
        for line in self.proc.stderr:
            self.log_tail = (self.log_tail + [line.rstrip()])[-20:]

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def metrics(self):
        with urllib.request.urlopen(self.url("/metrics"), timeout=10) as r:
            return json.load(r)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        shutil.rmtree(self.storage, ignore_errors=True)


def table_config(ack, strategy="hybrid", **extra):
    cfg = {"strategy": strategy, "max_batch_size": 50000, "max_batch_time": "500ms",
           "max_memory": "128MiB", "ack": ack, "compression": "none"}
    cfg.update(extra)
    return cfg


# --- scenarios -------------------------------------------------------------

CHGATE_SCENARIOS = [
    # name, what, events per request, body form, connections, endpoint
    ("a", "1 event per POST", 1, "object", 64, "events"),
    ("b", "100 events per POST", 100, "array", 64, "events"),
    ("c", "1000-event NDJSON POSTs", 1000, "ndjson", 8, "events"),
    ("d", "ClickHouse-compatible endpoint, 1 event per POST", 1, "ndjson", 64, "clickhouse"),
]

INSERT_QUERY = "/?query=" + urllib.parse.quote("INSERT INTO events FORMAT JSONEachRow")


def run_baseline(name, what, url, body, ctype, conns, seconds, ch, table, events_per_request):
    log(f"baseline {name}: {what}")
    ch.reset()
    if table == "events_buffer":
        ch.query(BUFFER_TABLE)
    start = time.monotonic()
    w = wrk(url, body, ctype, conns, seconds)
    row = {"name": name, "what": what, "connections": conns, "events_per_request": events_per_request,
           "accepted_per_s": w["accepted"] * events_per_request / w["seconds"],
           "requests_per_s": w["accepted"] / w["seconds"], "rejected": w["status_errors"],
           "socket_errors": w["socket_errors"], "p50_ms": w["p50_us"] / 1000, "p99_ms": w["p99_us"] / 1000}
    if table is None:
        row["landed_per_s"] = None
    else:
        if table == "events_buffer":
            ch.query(f"OPTIMIZE TABLE {DB}.events_buffer")  # flushes the buffer
        landed, t = wait_landed(ch, "events", w["accepted"] * events_per_request, start)
        row["landed"] = landed
        row["landed_per_s"] = landed / max(t, w["seconds"])
    log(f"  {row['requests_per_s']:.0f} req/s, landed/s {row['landed_per_s'] or 0:.0f}")
    return row


def values_row(i, run):
    """event(i, run) as a VALUES tuple, for ClickHouse's own INSERT."""
    e = json.loads(event(i, run))
    quote = lambda v: "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"
    return (f"({quote(e['event_id'])},{e['user_id']},{quote(e['session_id'])},{quote(e['event_type'])},"
            f"{quote(e['event_timestamp'])},{quote(e['page_url'])},{quote(e['device_type'])},"
            f"{quote(e['browser'])},{quote(e['country'])},{e['revenue']},{e['duration_seconds']})")


def run_values(workdir, ch, seconds, events=100, conns=8):
    """ClickHouse's own INSERT ... VALUES of `events` rows over `conns`
    connections: the direct baseline for a client that sends VALUES."""
    log(f"baseline: ClickHouse INSERT VALUES, {events} rows per INSERT, {conns} connections")
    ch.reset()
    body = ",".join(values_row(i, "values") for i in range(events))
    path = os.path.join(workdir, "body-values")
    with open(path, "w") as f:
        f.write(body)
    url = ch.url + "/?query=" + urllib.parse.quote(
        f"INSERT INTO {DB}.events (event_id, user_id, session_id, event_type, event_timestamp, "
        f"page_url, device_type, browser, country, revenue, duration_seconds) VALUES")
    ch_cpu0 = proc_cpu(ch.pid())
    start = time.monotonic()
    w = wrk(url, path, "text/plain", conns, seconds)
    landed, t = wait_landed(ch, "events", w["accepted"] * events, start)
    ch_cpu = proc_cpu(ch.pid()) - ch_cpu0
    row = {"requests_per_s": w["accepted"] / w["seconds"], "landed_per_s": landed / max(t, w["seconds"]),
           "ch_cpu_s_per_m": ch_cpu * 1e6 / max(1, landed), "rejected": w["status_errors"]}
    log(f"  landed/s {row['landed_per_s']:.0f}, ClickHouse CPU {row['ch_cpu_s_per_m']:.1f} s per M rows")
    return row


def run_chgate(scn, ack, workdir, ch, seconds, threads, fsync="always", binary=CHGATE, schema=None,
               insert_format=None):
    key, what, events, form, conns, endpoint = scn
    name = f"{key}-{ack}-{threads}"
    log(f"chgate ({key}) {what}, ack {ack}, io threads {threads or 'one per core'}"
        + ("" if binary == CHGATE else f", {binary}") + (f", schema {schema}" if schema else "")
        + (f", insert_format {insert_format}" if insert_format else ""))
    ch.reset()
    # Under coerce every event brings a timestamp to rewrite: the cost of
    # coerce at its worst (events that fit as sent cost what check costs).
    body, _ = write_body(workdir, name, events, form, iso_time=schema == "coerce")
    ctype = "application/x-ndjson" if form == "ndjson" else "application/json"
    extra = {"schema": schema} if schema else {}
    if insert_format:
        extra["insert_format"] = insert_format
    g = Chgate(workdir, name, ch, {"events": table_config(ack, **extra)}, threads, fsync, binary)
    if schema in ("check", "coerce") or insert_format == "rowbinary":
        # Measured once the columns are known, or the rows would go unchecked
        # (and as JSONEachRow).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urllib.request.urlopen(g.url("/v1/tables/events"), timeout=5) as r:
                if json.loads(r.read())["schema"]["state"] == "known":
                    break
            time.sleep(0.1)
    try:
        path = "/v1/events/events" if endpoint == "events" else INSERT_QUERY
        cpu0, ch_cpu0 = proc_cpu(g.proc.pid), proc_cpu(ch.pid())
        start = time.monotonic()
        busy0, sleeps0 = machine_busy_ticks(), proc_sleeps(g.proc.pid)
        w = wrk(g.url(path), body, ctype, conns, seconds)
        busy1, sleeps1 = machine_busy_ticks(), proc_sleeps(g.proc.pid)
        landed, t = wait_landed(ch, "events", w["accepted"] * events, start)
        cpu, ch_cpu = proc_cpu(g.proc.pid) - cpu0, proc_cpu(ch.pid()) - ch_cpu0
        m = g.metrics()["tables"]["events"]
        row = {"name": f"({key}) {ack}", "what": what, "threads": threads, "connections": conns,
               "events_per_request": events, "accepted": w["accepted"] * events,
               "accepted_per_s": w["accepted"] * events / w["seconds"],
               "requests_per_s": w["accepted"] / w["seconds"], "landed": landed,
               "landed_per_s": landed / max(t, w["seconds"]), "rejected": w["status_errors"],
               "socket_errors": w["socket_errors"], "p50_ms": w["p50_us"] / 1000,
               "p99_ms": w["p99_us"] / 1000, "rss_mib": proc_status_kib(g.proc.pid) / 1024,
               "cpu_s_per_m": cpu * 1e6 / max(1, landed), "inserts": m["batches_inserted"],
               # ClickHouse's CPU while the events went in (its merges too).
               "ch_cpu_s_per_m": ch_cpu * 1e6 / max(1, landed),
               "rowbinary_batches": g.metrics()["clickhouse"].get("rowbinary", {}).get("batches", 0),
               "lost": max(0, w["accepted"] * events - landed),
               # The share of every core busy (chgate, wrk, ClickHouse, the
               # kernel) while wrk ran: below 1.0, the rate is bound by latency.
               "machine_busy": (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]),
               # How often chgate's threads slept (and had to be woken) per request.
               "sleeps_per_request": (sleeps1 - sleeps0) / max(1, w["requests"])}
    finally:
        g.stop()
    log(f"  accepted/s {row['accepted_per_s']:.0f}, landed/s {row['landed_per_s']:.0f}, "
        f"p99 {row['p99_ms']:.1f} ms, RSS {row['rss_mib']:.1f} MiB, lost {row['lost']}")
    return row


def run_adaptive(workdir, ch, step_seconds, threads):
    """Ramps one adaptive table from 100 to 50,000 events/s."""
    log("adaptive ramp")
    ch.reset()
    tcfg = table_config("buffered", strategy="adaptive", min_batch_size=1000,
                        max_batch_size=100000, max_batch_time="1s", target_latency="500ms")
    g = Chgate(workdir, "adaptive", ch, {"events_adaptive": tcfg}, threads)
    steps = []
    try:
        for rate in (100, 1000, 5000, 10000, 25000, 50000):
            before = g.metrics()["tables"]["events_adaptive"]
            t0 = time.monotonic()
            r = load_at(g.port, rate, step_seconds, "events_adaptive")
            after = g.metrics()["tables"]["events_adaptive"]
            dt = time.monotonic() - t0
            batches = after["batches_inserted"] - before["batches_inserted"]
            lat_sum = (after["avg_flush_latency_ms"] * after["batches_inserted"] -
                       before["avg_flush_latency_ms"] * before["batches_inserted"])
            steps.append({"rate": rate, "achieved": r["events_per_second"],
                          "inserts_per_s": batches / dt,
                          "avg_insert_ms": lat_sum / batches if batches else 0.0,
                          "batch_size": after["thresholds"]["current_batch_size"],
                          "rejected": r["rejected"]})
            s = steps[-1]
            log(f"  {rate}/s: {s['achieved']:.0f} ev/s, {s['inserts_per_s']:.2f} INSERTs/s, "
                f"avg INSERT {s['avg_insert_ms']:.0f} ms, size {s['batch_size']}")
    finally:
        g.stop()
    return {"steps": steps, "target_latency_ms": 500}


def load_at(port, rate, seconds, table="events"):
    """chgate-load, 64 connections, single events, at `rate` requests/s (None: flat out)."""
    args = [LOAD, "--url", f"127.0.0.1:{port}", "--table", table, "--connections", "64",
            "--events", "1", "--duration", str(seconds), "--json"]
    if rate:
        args += ["--rate", str(rate)]
    return json.loads(sh(*args, capture_output=True).stdout)


def run_growth(workdir, ch, seconds, threads):
    """CPU seconds per million events as the offered load grows: chgate at
    both ack levels, and nginx doing nothing as the floor for the same client."""
    log("growth")
    rows = []
    for who in ("buffered", "durable", "nginx"):
        for rate in (1000, 10000, None):
            ch.reset()
            if who == "nginx":
                n = Nginx(workdir + f"/growth-{rate}")
                try:
                    workers = [int(p) for p in sh("pgrep", "-P", str(n.proc.pid),
                                                   capture_output=True).stdout.split()]
                    cpu0 = sum(proc_cpu(p) for p in workers)
                    r = load_at(n.port, rate, seconds)
                    cpu = sum(proc_cpu(p) for p in workers) - cpu0
                    count = r["accepted_events"]
                finally:
                    n.stop()
            else:
                g = Chgate(workdir, f"growth-{who}-{rate}", ch, {"events": table_config(who)},
                           threads)
                try:
                    cpu0 = proc_cpu(g.proc.pid)
                    start = time.monotonic()
                    r = load_at(g.port, rate, seconds)
                    count, _ = wait_landed(ch, "events", r["accepted_events"], start)
                    cpu = proc_cpu(g.proc.pid) - cpu0
                finally:
                    g.stop()
            rows.append({"who": who, "rate": rate or "max", "events_per_s": r["events_per_second"],
                         "cpu_s_per_m": cpu * 1e6 / max(1, count)})
            log(f"  {who} {rows[-1]['rate']}: {r['events_per_second']:.0f} ev/s, "
                f"{rows[-1]['cpu_s_per_m']:.2f} CPU s per million")
    return rows


def run_recovery(workdir, ch, seconds, threads, binary=CHGATE):
    """ClickHouse stopped while single events come in (ack buffered, batches of
    1000 rows, no retries): the batches go to the spool. Then ClickHouse is
    started again, and the spool's drain is timed, against its configured
    rate (storage.spool_replay_rate, 16 MiB/s by default)."""
    log(f"recovery: {seconds} s of load with ClickHouse stopped, then the spool's drain")
    ch.reset()
    one, _ = write_body(workdir, "recovery", 1, "object")
    g = Chgate(workdir, "recovery", ch,
               {"events": table_config("buffered", max_batch_size=1000, max_batch_time="1s",
                                       retry_attempts=0)},
               threads, binary=binary, clickhouse={"retry": {"initial": "100ms", "max": "1s"},
                                                   "probe_interval": "200ms"})
    try:
        ch.stop()
        try:
            w = wrk(g.url("/v1/events/events"), one, "application/json", 64, seconds)
            # Every accepted batch has failed its one attempt and gone to the spool.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                t = g.metrics()["tables"]["events"]
                if t["buffered_rows"] == 0 and t["pending_rows"] == 0:
                    break
                time.sleep(0.2)
            spool = g.metrics()["storage"]["spool_bytes"]
            spooled_rows = g.metrics()["tables"]["events"]["rows_spooled"]
        finally:
            ch.start_again()
        start = time.monotonic()
        while g.metrics()["storage"]["spool_bytes"] > 0 and time.monotonic() - start < 900:
            time.sleep(0.1)
        drained = time.monotonic() - start
        landed, _ = wait_landed(ch, "events", w["accepted"], start)
    finally:
        g.stop()
    row = {"accepted": w["accepted"], "rejected": w["status_errors"], "spool_bytes": spool,
           "spooled_rows": spooled_rows, "drain_s": drained, "landed": landed,
           "rows_per_s": spooled_rows / max(drained, 1e-3),
           "bytes_per_s": spool / max(drained, 1e-3)}
    log(f"  {spooled_rows} rows ({spool} bytes) spooled, drained in {drained:.1f} s; "
        f"{landed} of {w['accepted']} accepted landed")
    return row


def run_micro():
    log("micro-benchmarks")
    out = sh(MICRO, "--benchmark_format=json", "--benchmark_min_time=0.2",
             capture_output=True).stdout
    return json.loads(out)["benchmarks"]


# --- report ----------------------------------------------------------------

def fmt(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def machine(ch):
    """The report's machine line."""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.machine()
    with open("/proc/meminfo") as f:
        mem_gib = int(f.readline().split()[1]) / 1024 / 1024
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, {platform.system()} "
            f"{platform.release()}; ClickHouse {ch.version} on the same machine.")


def report(args, ch, baselines, chgate_rows, adaptive, growth, micro, recovery=None):
    today = datetime.date.today().isoformat()
    b = {r["name"]: r for r in baselines}
    L = [f"# chgate benchmark ({today})", "",
         f"- Machine: {machine(ch)}",
         f"- Command: `loadtest/bench.sh --seconds {args.seconds} --threads {args.threads}"
         f"{'' if args.fsync == 'always' else ' --fsync ' + args.fsync}"
         f"{'' if args.only == ALL_PARTS else ' --only ' + args.only}"
         f"{'' if args.scenarios == 'a,b,c,d' else ' --scenarios ' + args.scenarios}"
         f"{'' if args.acks == 'buffered,durable' else ' --acks ' + args.acks}`",
         "- Client: wrk, one thread, keep-alive connections, one fixed body per scenario "
         "(analytics-example events of about 260 bytes). Landed = rows counted in ClickHouse after the "
         "run; landed/s = those rows over the time from the first request to the last row "
         "landing.",
         f"- chgate: Release build, table `events` hybrid (50,000 rows / 500 ms, max_memory 128 MiB), "
         f"compression none (loopback), server.threads {args.threads}, batching.max_memory "
         f"{BUFFER_MEMORY}, storage.fsync {args.fsync}.", "",
         "## Baselines", "",
         "| baseline | connections | events/request | requests/s | landed events/s | rejected | p50 ms | p99 ms |",
         "|---|---|---|---|---|---|---|---|"]
    if not baselines:
        L.append("| not run (see --only) | | | | | | | |")
    for r in baselines:
        L.append(f"| {r['what']} | {r['connections']} | {r['events_per_request']} | "
                 f"{fmt(r['requests_per_s'])} | {fmt(r['landed_per_s'])} | {r['rejected']} | "
                 f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    L += ["", "## chgate", "",
          "| scenario | ack | io threads | conns | events/req | accepted events/s | landed events/s | lost | "
          "rejected | p50 ms | p99 ms | peak RSS MiB | CPU s / M events | INSERTs | machine busy | "
          "sleeps / request |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in chgate_rows:
        threads = r["threads"] or f"{os.cpu_count()} (one per core)"
        L.append(f"| {r['name'].split()[0]} {r['what']} | {r['name'].split()[1]} | {threads} | {r['connections']} | "
                 f"{r['events_per_request']} | {fmt(r['accepted_per_s'])} | {fmt(r['landed_per_s'])} | "
                 f"{r['lost']} | {r['rejected']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                 f"{r['rss_mib']:.1f} | {r['cpu_s_per_m']:.2f} | {r['inserts']} | "
                 f"{r.get('machine_busy', 0) * 100:.0f}% | {r.get('sleeps_per_request', 0):.3f} |")
    # Ratios: every chgate row against every baseline, landed events/s over the
    # baseline's landed events/s (nginx: its requests/s).
    names = [r["name"] for r in baselines]
    if names:
        L += ["", "## Ratios (chgate landed events/s ÷ baseline)", "",
              "| scenario | " + " | ".join(b[n]["what"] for n in names) + " |",
              "|---|" + "---|" * len(names)]
    for r in chgate_rows if names else []:
        cells = []
        for n in names:
            base = b[n]["landed_per_s"] if b[n]["landed_per_s"] is not None else b[n]["requests_per_s"]
            cells.append(f"{r['landed_per_s'] / base:.2f}" if base else "–")
        label = r["name"] + ("" if r["threads"] else ", one io thread per core")
        L.append(f"| {label} | " + " | ".join(cells) + " |")

    def find(key):
        return [r for r in chgate_rows if r["name"].startswith(f"({key})")]

    L += ["", "## Targets", ""]
    if "nginx" in b and find("a"):
        for r in find("a"):
            ratio = r["landed_per_s"] / b["nginx"]["requests_per_s"]
            label = r["name"] + ("" if r["threads"] else ", one io thread per core")
            verdict = ("no target at durable: see (e)" if "durable" in r["name"] else
                       f"target ≥ 0.75: {'met' if ratio >= 0.75 else 'missed'}")
            L.append(f"- {label}: landed {fmt(r['landed_per_s'])}/s ÷ nginx "
                     f"{fmt(b['nginx']['requests_per_s'])}/s = **{ratio:.2f}** ({verdict}); "
                     f"lost {r['lost']}, rejected {r['rejected']}.")
    if "beast" in b and find("a"):
        r = find("a")[0]
        ratio = r["landed_per_s"] / b["beast"]["requests_per_s"]
        L.append(f"- {r['name']} against the bare Beast server: landed "
                 f"{fmt(r['landed_per_s'])}/s ÷ {fmt(b['beast']['requests_per_s'])} requests/s = "
                 f"**{ratio:.2f}** (target: at least as fast, ≥ 1.0: "
                 f"{'met' if ratio >= 1.0 else 'missed'}).")
    if "ch_bulk" in b and find("c"):
        for r in find("c"):
            ratio = r["landed_per_s"] / b["ch_bulk"]["landed_per_s"]
            L.append(f"- {r['name']}: landed {fmt(r['landed_per_s'])} rows/s ÷ ClickHouse "
                     f"direct {fmt(b['ch_bulk']['landed_per_s'])} rows/s = **{ratio:.2f}** "
                     f"(target ≥ 1.0: {'met' if ratio >= 1.0 else 'missed'}).")
    pairs, ceilings = [], []
    for key in "abcd":
        # The pair at --threads (not the extra one-per-core buffered row).
        acks = {r["name"].split()[1]: r for r in find(key) if r["threads"] == args.threads}
        if "buffered" in acks and "durable" in acks:
            d, bf = acks["durable"], acks["buffered"]
            pairs.append(f"({key}) {d['landed_per_s'] / bf['landed_per_s']:.2f}")
            # Machine CPU (every core, every process) per accepted event: the
            # rate each would reach with every core busy, if the cost stayed.
            cost = {r["name"]: r["machine_busy"] * os.cpu_count() / max(1, r["accepted_per_s"])
                    for r in (d, bf)}
            ceilings.append(f"({key}) {cost[bf['name']] / cost[d['name']]:.2f} "
                            f"({cost[d['name']] * 1e6:.1f} µs against {cost[bf['name']] * 1e6:.1f} µs "
                            f"of machine CPU per event; busy {d['machine_busy'] * 100:.0f}% "
                            f"and {bf['machine_busy'] * 100:.0f}%; chgate's threads slept "
                            f"{d['sleeps_per_request']:.3f} and {bf['sleeps_per_request']:.3f} "
                            f"times per request)")
    if pairs:
        L.append("- (e) durable ÷ buffered, landed events/s: " + ", ".join(pairs) +
                 " (issue 3's target for single events: ≥ 0.8).")
        L.append("  - The same ratio if both kept every core busy at the machine CPU per event "
                 "measured (buffered ÷ durable cost per event; an estimate, not a measurement): " +
                 ", ".join(ceilings) + ".")
    if chgate_rows:
        peak = max(r["rss_mib"] for r in chgate_rows)
        limit = 64 + BUFFER_MEMORY_MIB
        L.append(f"- Memory: peak RSS {peak:.1f} MiB over all scenarios; limit 64 MiB + "
                 f"{BUFFER_MEMORY_MIB} MiB configured = {limit} MiB "
                 f"({'met' if peak <= limit else 'missed'}).")
    if adaptive:
        steps = adaptive["steps"]
        worst_ins = max(s["inserts_per_s"] for s in steps)
        worst_lat = max(s["avg_insert_ms"] for s in steps)
        ok = worst_ins <= 2.0 and worst_lat <= adaptive["target_latency_ms"]
        L.append(f"- Adaptive: at most {worst_ins:.2f} INSERTs/s and {worst_lat:.0f} ms average "
                 f"INSERT time per step (targets ≤ 2/s and ≤ target_latency "
                 f"{adaptive['target_latency_ms']} ms: {'met' if ok else 'missed'}).")
    if growth:
        for who in ("buffered", "durable", "nginx"):
            g = [x for x in growth if x["who"] == who]
            L.append(f"- Growth ({who}): CPU seconds per million events: " + ", ".join(
                f"{x['cpu_s_per_m']:.2f} at {fmt(x['events_per_s'])}/s" for x in g) + ".")
    if adaptive:
        L += ["", "## Adaptive ramp (one table, ack buffered, min_batch_size 1000, target_latency 500 ms, "
              "max_batch_time 1 s)", "",
              "| offered events/s | achieved events/s | INSERTs/s | avg INSERT ms | size trigger at end | rejected |",
              "|---|---|---|---|---|---|"]
        for s in adaptive["steps"]:
            L.append(f"| {fmt(s['rate'])} | {fmt(s['achieved'])} | {s['inserts_per_s']:.2f} | "
                     f"{s['avg_insert_ms']:.0f} | {fmt(s['batch_size'])} | {s['rejected']} |")
    if growth:
        L += ["", "## Growth (chgate-load, 64 connections, 1 event per POST; nginx answering "
              "200 with no work as the floor for the same client)", "",
              "| system | offered | events/s | CPU s / M events |", "|---|---|---|---|"]
        for g in growth:
            offered = g["rate"] if g["rate"] == "max" else fmt(g["rate"])
            who = "nginx" if g["who"] == "nginx" else f"chgate, ack {g['who']}"
            L.append(f"| {who} | {offered} | {fmt(g['events_per_s'])} | {g['cpu_s_per_m']:.2f} |")
    if recovery:
        r = recovery
        L += ["", f"## Recovery after an outage (single events for {args.seconds} s with ClickHouse "
              "stopped, ack buffered, batches of 1000 rows, no retries: spooled; then ClickHouse "
              "started again)", "",
              "| accepted | rejected (429/503) | spooled rows | spool bytes | drained in s | rows/s | "
              "MiB/s (spool_replay_rate: 16) | landed |", "|---|---|---|---|---|---|---|---|",
              f"| {fmt(r['accepted'])} | {fmt(r['rejected'])} | {fmt(r['spooled_rows'])} | "
              f"{fmt(r['spool_bytes'])} | {r['drain_s']:.1f} | {fmt(r['rows_per_s'])} | "
              f"{r['bytes_per_s'] / 2**20:.2f} | {fmt(r['landed'])} |"]
    if micro:
        L += ["", "## Micro-benchmarks (chgate-microbench)", "",
              "| benchmark | ns per iteration | throughput |", "|---|---|---|"]
        for m in micro:
            tp = ""
            if "bytes_per_second" in m:
                tp = f"{m['bytes_per_second'] / 1e6:,.0f} MB/s"
            elif "items_per_second" in m:
                tp = f"{m['items_per_second'] / 1e6:,.2f} M items/s"
            L.append(f"| {m['name']} | {m['real_time']:,.0f} | {tp} |")
    return "\n".join(L) + "\n"


def run_ab(args, workdir, ch):
    """--ab A,B: the chgate binaries alternated, round after round, on the
    chosen scenarios and acks; medians per binary, and each against the first."""
    binaries = args.ab.split(",")
    for b in binaries:
        if not os.access(b, os.X_OK):
            raise SystemExit(f"--ab: {b} is not an executable")
    # With --schemas, every binary runs once per schema setting: the variants
    # compared are (binary, schema) pairs, labelled "binary schema S".
    # With --formats, once per insert_format too: "binary schema S format F".
    schemas = args.schemas.split(",") if args.schemas else [None]
    formats = args.formats.split(",") if args.formats else [None]
    variants = [(b, sc, fm) for b in binaries for sc in schemas for fm in formats]
    label = lambda b, sc, fm: (b + ("" if sc is None else f" schema {sc}")
                               + ("" if fm is None else f" format {fm}"))
    binaries = [label(*v) for v in variants]
    values = []  # ClickHouse's own VALUES INSERTs, once a round with --formats
    runs = {}  # (scenario key, ack, variant label) -> [row, ...]
    recoveries = {}  # binary -> [run_recovery's row, ...]
    args.scenarios = args.scenarios or "a"
    for r in range(args.rounds):
        log(f"round {r + 1} of {args.rounds}")
        if "recovery" in args.scenarios.split(","):
            for b in binaries:
                recoveries.setdefault(b, []).append(
                    run_recovery(workdir, ch, args.seconds, args.threads, binary=b))
        if args.formats:
            values.append(run_values(workdir, ch, args.seconds))
        for scn in CHGATE_SCENARIOS:
            if scn[0] not in args.scenarios.split(","):
                continue
            for ack in args.acks.split(","):
                for b, sc, fm in variants:
                    row = run_chgate(scn, ack, workdir, ch, args.seconds, args.threads, args.fsync,
                                     binary=b, schema=sc, insert_format=fm)
                    runs.setdefault((scn[0], ack, label(b, sc, fm)), []).append(row)
    L = [f"# chgate A/B ({datetime.date.today().isoformat()})", "",
         f"- Machine: {machine(ch)}",
         f"- Command: `loadtest/bench.sh --ab {args.ab} --rounds {args.rounds} --seconds "
         f"{args.seconds} --threads {args.threads} --fsync {args.fsync} --scenarios "
         f"{args.scenarios} --acks {args.acks}"
         + (f" --schemas {args.schemas}" if args.schemas else "")
         + (f" --formats {args.formats}" if args.formats else "") + "`",
         "- Each round runs every binary once per scenario and ack, in turn; medians over the rounds."]
    if runs:
        L += ["", "| scenario | ack | binary | requests/s (median) | landed events/s (median) | "
              "÷ first binary | chgate CPU s per M events (median) | ClickHouse CPU s per M rows "
              "(median) | requests/s per round |",
              "|---|---|---|---|---|---|---|---|---|"]
    for (key, ack, b), rows in runs.items():
        med = statistics.median(r["requests_per_s"] for r in rows)
        landed = statistics.median(r["landed_per_s"] for r in rows)
        cpu = statistics.median(r["cpu_s_per_m"] for r in rows)
        ch_cpu = statistics.median(r["ch_cpu_s_per_m"] for r in rows)
        first = statistics.median(r["requests_per_s"] for r in runs[(key, ack, binaries[0])])
        L.append(f"| ({key}) | {ack} | `{b}` | {fmt(med)} | {fmt(landed)} | {med / first:.3f} | "
                 f"{cpu:.1f} | {ch_cpu:.1f} | " + ", ".join(fmt(r["requests_per_s"]) for r in rows)
                 + " |")
    if values:
        L += ["", "| baseline | landed rows/s (median) | ClickHouse CPU s per M rows (median) | "
              "landed rows/s per round |", "|---|---|---|---|",
              f"| ClickHouse INSERT VALUES, 100 rows, 8 connections | "
              f"{fmt(statistics.median(v['landed_per_s'] for v in values))} | "
              f"{statistics.median(v['ch_cpu_s_per_m'] for v in values):.1f} | "
              + ", ".join(fmt(v["landed_per_s"]) for v in values) + " |"]
    if args.formats and len(formats) > 1:
        # Each format against the first, per round (they ran one after the
        # other, so they share that round's noise).
        L += ["", "| scenario | ack | binary | format ÷ " + formats[0] + ": landed rows/s, "
              "ClickHouse CPU per row, chgate CPU per row (medians of per-round ratios) | "
              "landed ÷ VALUES baseline |", "|---|---|---|---|---|"]
        for (key, ack, b), rows in runs.items():
            for b0, sc, fm in variants:
                if fm == formats[0] or label(b0, sc, fm) != b:
                    continue
                base = runs[(key, ack, label(b0, sc, formats[0]))]
                r = lambda k: statistics.median(x[k] / max(1e-9, y[k]) for x, y in zip(rows, base))
                vs_values = (statistics.median(x["landed_per_s"] / v["landed_per_s"]
                                               for x, v in zip(rows, values)) if values else None)
                L.append(f"| ({key}) | {ack} | `{b}` | {r('landed_per_s'):.2f}, "
                         f"{r('ch_cpu_s_per_m'):.2f}, {r('cpu_s_per_m'):.2f} | "
                         + (f"{vs_values:.2f}" if vs_values is not None else "-") + " |")
    if recoveries:
        L += ["", "| recovery | binary | spooled rows (median) | drained in s (median) | rows/s drained "
              "(median) | ÷ first binary | drained in s per round |", "|---|---|---|---|---|---|---|"]
        first = statistics.median(r["rows_per_s"] for r in recoveries[binaries[0]])
    for b, rows in recoveries.items():
        rate = statistics.median(r["rows_per_s"] for r in rows)
        L.append(f"| spool drain | `{b}` | {fmt(statistics.median(r['spooled_rows'] for r in rows))} | "
                 f"{statistics.median(r['drain_s'] for r in rows):.1f} | {fmt(rate)} | "
                 f"{rate / first:.2f} | " + ", ".join(f"{r['drain_s']:.1f}" for r in rows) + " |")
    # Both acks measured: durable ÷ buffered of each round (the two ran one
    # after the other, so they share that round's noise), and their median.
    pairs = [(key, b) for (key, ack, b) in runs if ack == "durable" and (key, "buffered", b) in runs]
    if pairs:
        L += ["", "| scenario | binary | durable ÷ buffered, landed events/s, per round | median | "
              "machine busy, durable / buffered (medians) | sleeps per request, durable / buffered |",
              "|---|---|---|---|---|---|"]
    for key, b in pairs:
        d, bf = runs[(key, "durable", b)], runs[(key, "buffered", b)]
        ratios = [x["landed_per_s"] / y["landed_per_s"] for x, y in zip(d, bf)]
        med = lambda rows, k: statistics.median(r[k] for r in rows)
        L.append(f"| ({key}) | `{b}` | " + ", ".join(f"{x:.2f}" for x in ratios) +
                 f" | **{statistics.median(ratios):.2f}** | {med(d, 'machine_busy') * 100:.0f}% / "
                 f"{med(bf, 'machine_busy') * 100:.0f}% | {med(d, 'sleeps_per_request'):.3f} / "
                 f"{med(bf, 'sleeps_per_request'):.3f} |")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="per wrk run (default 10)")
    ap.add_argument("--only", default=ALL_PARTS,
                    help="comma-separated parts to run (default: all)")
    ap.add_argument("--scenarios", default=None,
                    help="chgate scenarios (default a,b,c,d; with --ab, a)")
    ap.add_argument("--acks", default="buffered,durable")
    ap.add_argument("--threads", type=int, default=1,
                    help="chgate's server.threads (default 1: wrk takes the other core; "
                         "(a) also runs with 0, one per core, for comparison)")
    ap.add_argument("--fsync", default="always", choices=["always", "interval", "never"],
                    help="chgate's storage.fsync (default always)")
    ap.add_argument("--ab", default=None, metavar="BIN_A,BIN_B[,...]",
                    help="compare chgate binaries instead: alternated for --rounds rounds on "
                         "--scenarios (default a; 'recovery' for the spool's drain) and --acks; "
                         "report in loadtest/results/DATE-ab.md")
    ap.add_argument("--rounds", type=int, default=5, help="--ab rounds (default 5)")
    ap.add_argument("--schemas", default=None, metavar="off,check,coerce",
                    help="with --ab: run each binary with each tables' schema setting "
                         "(under coerce, every event's timestamp is ISO 8601 to rewrite)")
    ap.add_argument("--formats", default=None, metavar="jsoneachrow,rowbinary",
                    help="with --ab: run each binary with each tables' insert_format, and "
                         "ClickHouse's own 100-row VALUES INSERTs once a round as a baseline")
    ap.add_argument("--output", default=None,
                    help="report file (default loadtest/results/DATE-bench.md)")
    args, _ = ap.parse_known_args()
    if args.ab is None:
        args.scenarios = args.scenarios or "a,b,c,d"
    parts = set(args.only.split(","))
    # The hardening's costs (HTTPS, idle connections) have a report of their own.
    if parts and parts <= {"tls", "idle"}:
        import bench_hardening
        return bench_hardening.main(sys.argv[1:])
    # Stopped from outside: still stop ClickHouse, nginx and chgate.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    workdir = tempfile.mkdtemp(prefix="chgate-bench-")
    ch = nginx = None
    baselines, chgate_rows, adaptive, growth, micro, recovery = [], [], None, [], [], None
    try:
        if "micro" in parts and not args.ab:
            micro = run_micro()  # first: nothing else runs yet
        ch = ClickHouse(workdir)
        ch.query(f"CREATE DATABASE IF NOT EXISTS {DB}")
        sh(os.path.join(ROOT, "deploy", "apply-sql.sh"), ch.url,
           os.path.join(ROOT, "deploy", "sql", "chgate.sql"), DB, capture_output=True)
        ch.query(f"CREATE TABLE IF NOT EXISTS {DB}.events_adaptive AS {DB}.events")
        one, _ = write_body(workdir, "one", 1, "object")
        one_nd, _ = write_body(workdir, "one-nd", 1, "ndjson")
        bulk, _ = write_body(workdir, "bulk", 1000, "ndjson")
        s = args.seconds
        if args.ab:
            parts = set()
            text = run_ab(args, workdir, ch)
        def run_nginx():
            nonlocal nginx
            nginx = Nginx(workdir + f"/nginx-{time.monotonic_ns()}")
            row = run_baseline("nginx", "nginx, 200 with no work",
                               f"http://127.0.0.1:{nginx.port}/v1/events/events",
                               one, "application/json", 64, s, ch, None, 1)
            nginx.stop()
            nginx = None
            return row

        if "baselines" in parts:
            baselines.append(run_nginx())
            beast_threads = args.threads or os.cpu_count()
            port = free_port()
            beast = subprocess.Popen([BEAST, "noop", str(port), str(beast_threads)])
            try:
                wait_http(f"http://127.0.0.1:{port}/", 10, method="POST")
                baselines.append(run_baseline(
                    "beast", f"bare Beast server, 202 with no work ({beast_threads} thread"
                    f"{'s' if beast_threads > 1 else ''})", f"http://127.0.0.1:{port}/v1/events/events",
                    one, "application/json", 64, s, ch, None, 1))
            finally:
                beast.terminate()
                beast.wait()
            q = lambda table: ch.url + "/?query=" + urllib.parse.quote(  # noqa: E731
                f"INSERT INTO {DB}.{table} FORMAT JSONEachRow")
            baselines.append(run_baseline("ch_bulk", "ClickHouse, 1000-row INSERTs", q("events"),
                                          bulk, "application/x-ndjson", 8, s, ch, "events", 1000))
            baselines.append(run_baseline("ch_buffer", "ClickHouse Buffer table, 1 row per INSERT",
                                          q("events_buffer"), one_nd, "application/x-ndjson", 64, s,
                                          ch, "events_buffer", 1))
            baselines.append(run_baseline("ch_single", "ClickHouse, 1-row INSERTs", q("events"),
                                          one_nd, "application/x-ndjson", 64, s, ch, "events", 1))
        if "chgate" in parts:
            for scn in CHGATE_SCENARIOS:
                if scn[0] not in args.scenarios.split(","):
                    continue
                for ack in args.acks.split(","):
                    chgate_rows.append(run_chgate(scn, ack, workdir, ch, s, args.threads, args.fsync))
            if "a" in args.scenarios.split(",") and args.threads != 0:
                # The default, one io thread per core, for comparison.
                chgate_rows.append(run_chgate(CHGATE_SCENARIOS[0], "buffered", workdir, ch, s, 0))
        if "baselines" in parts and "chgate" in parts:
            # nginx again after chgate's runs: the ratio is taken against the
            # better of the two, so a slow moment of the machine cannot flatter chgate.
            again = run_nginx()
            first = baselines[0]
            best = max(first, again, key=lambda r: r["requests_per_s"])
            best = dict(best, what=f"nginx, 200 with no work (best of {fmt(first['requests_per_s'])} "
                                   f"before and {fmt(again['requests_per_s'])} after chgate's runs)")
            baselines[0] = best
        if "adaptive" in parts:
            adaptive = run_adaptive(workdir, ch, max(5, s), args.threads)
        if "growth" in parts:
            growth = run_growth(workdir, ch, s, args.threads)
        if "recovery" in parts:
            recovery = run_recovery(workdir, ch, s, args.threads)
        if not args.ab:
            text = report(args, ch, baselines, chgate_rows, adaptive, growth, micro, recovery)
    finally:
        if nginx:
            nginx.stop()
        if ch:
            ch.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(text)
    today = datetime.date.today().isoformat()
    out = args.output or os.path.join(ROOT, "loadtest", "results",
                                      f"{today}-{'ab' if args.ab else 'bench'}.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    log(f"written to {out}")


if __name__ == "__main__":
    main()
