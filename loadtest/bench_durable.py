"""Durable against buffered acks: single-event POSTs over 64 keep-alive
connections, each mode run in turn (A B A B …) against one private ClickHouse,
and the ratio taken within the run. Writes a results file.

    loadtest/bench-durable.sh [--rounds N] [--seconds S] [--fsync always|interval|never]
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
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-release")
CHGATE = os.path.join(BUILD, "chgate")
LOAD = os.path.join(BUILD, "loadtest", "chgate-load")


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, **kw)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("chgate did not become ready")


def run_mode(ack, fsync, seconds, ch_url, db, workdir, index):
    storage = os.path.join(workdir, f"storage-{index}")
    config = os.path.join(workdir, f"chgate-{index}.yaml")
    with open(config, "w") as f:
        json.dump({
            "server": {"listen": "127.0.0.1:0", "threads": 2},
            "clickhouse": {"url": ch_url, "database": db},
            "storage": {"dir": storage, "fsync": fsync},
            "batching": {"max_memory": "512MiB", "tables": {"events": {
                "strategy": "hybrid", "max_batch_size": 5000, "max_batch_time": "1s",
                "max_memory": "64MiB", "ack": ack}}},
            "log": {"level": "info"},
        }, f)
    proc = subprocess.Popen([CHGATE, "--config", config], stderr=subprocess.PIPE, text=True)
    port = None
    for line in proc.stderr:
        m = re.search(r"listening on [0-9.]+:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        raise RuntimeError("chgate did not start")
    # Keep reading its log so it never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    wait_ready(port)
    cpu0 = cpu_seconds(proc.pid)
    out = sh(LOAD, "--url", f"127.0.0.1:{port}", "--connections", "64", "--events", "1",
             "--duration", str(seconds), "--json", "--verify", "--clickhouse", ch_url,
             "--database", db, capture_output=True).stdout
    cpu1 = cpu_seconds(proc.pid)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as r:
        metrics = json.load(r)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    result = json.loads(out)
    result["cpu_us_per_request"] = (cpu1 - cpu0) * 1e6 / max(1, result["accepted_requests"])
    result["syncs"] = metrics.get("storage", {}).get("syncs", 0)
    shutil.rmtree(storage, ignore_errors=True)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--fsync", default="always", choices=["always", "interval", "never"])
    ap.add_argument("--output", default=None, help="results file (default loadtest/results/DATE-durable.md)")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="chgate-bench-")
    ch_dir = os.path.join(workdir, "clickhouse")
    sh(os.path.join(ROOT, "deploy", "clickhouse.sh"), "start", ch_dir, capture_output=True)
    try:
        with open(os.path.join(ch_dir, "http_port")) as f:
            ch_url = f"http://127.0.0.1:{f.read().strip()}"
        db = "bench"
        sh(os.path.join(ROOT, "deploy", "apply-sql.sh"), ch_url,
           os.path.join(ROOT, "deploy", "sql", "chgate.sql"), db, capture_output=True)
        runs = {"buffered": [], "durable": []}
        index = 0
        for round_ in range(args.rounds):
            for ack in ("buffered", "durable"):
                index += 1
                r = run_mode(ack, args.fsync, args.seconds, ch_url, db, workdir, index)
                runs[ack].append(r)
                ok = r.get("verify", {}).get("ok")
                print(f"round {round_ + 1} {ack:8}: {r['requests_per_second']:9.0f} req/s  "
                      f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                      f"cpu {r['cpu_us_per_request']:.1f} us/req  syncs {r['syncs']}  verify {'OK' if ok else 'FAILED'}",
                      flush=True)
                if not ok:
                    raise SystemExit("verification failed: ClickHouse does not hold exactly what was acknowledged")
    finally:
        sh(os.path.join(ROOT, "deploy", "clickhouse.sh"), "stop", ch_dir, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    med = {k: statistics.median(r["requests_per_second"] for r in v) for k, v in runs.items()}
    ratio = med["durable"] / med["buffered"]
    pairs = [d["requests_per_second"] / b["requests_per_second"]
             for b, d in zip(runs["buffered"], runs["durable"])]
    today = datetime.date.today().isoformat()
    cpu = platform.processor() or platform.machine()
    lines = [
        f"# Durable against buffered acks ({today})",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
        f"ClickHouse {subprocess.run(['clickhouse-server', '--version'], capture_output=True, text=True).stdout.strip() or '18.16'} "
        "on the same machine.",
        f"Command: `loadtest/bench-durable.sh --rounds {args.rounds} --seconds {args.seconds} --fsync {args.fsync}`",
        "Workload: chgate-load, 64 keep-alive connections, one analytics-example event per POST; table "
        "events hybrid 5000 rows / 1 s; each run verified (ClickHouse holds exactly the "
        "acknowledged events).",
        "",
        "| round | ack | requests/s | p50 ms | p99 ms | chgate CPU µs/request | fsyncs |",
        "|---|---|---|---|---|---|---|",
    ]
    for i in range(args.rounds):
        for ack in ("buffered", "durable"):
            r = runs[ack][i]
            lines.append(f"| {i + 1} | {ack} | {r['requests_per_second']:.0f} | {r['p50_ms']:.2f} | "
                         f"{r['p99_ms']:.2f} | {r['cpu_us_per_request']:.1f} | {r['syncs']} |")
    lines += ["", f"Median requests/s: buffered {med['buffered']:.0f}, durable {med['durable']:.0f}.",
              f"**durable/buffered = {ratio:.2f}** (per round: {', '.join(f'{p:.2f}' for p in pairs)}; "
              "target 0.8).", ""]
    text = "\n".join(lines)
    print()
    print(text)
    out = args.output or os.path.join(ROOT, "loadtest", "results", f"{today}-durable.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
