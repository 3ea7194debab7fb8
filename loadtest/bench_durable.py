"""Durable acks against the physical limit: single-event POSTs over keep-alive
connections to chgate with ack buffered, to chgate with ack durable, and to
durable-echo (append, group-commit fdatasync, answer 202: the fastest any
durable gateway can answer on this machine), each run in turn (A B C A B C …)
at each connection count, against one private ClickHouse; the ratios are
taken within the run. Writes a results file.

    loadtest/bench-durable.sh [--connections 64,512] [--rounds N] [--seconds S]
                              [--fsync always|interval|never]
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
ECHO = os.path.join(BUILD, "loadtest", "baseline-server")
MODES = ("buffered", "durable", "echo", "echo-direct")


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


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_echo(seconds, connections, workdir, index, direct):
    """durable-echo with two io threads, as chgate has here; `direct`: its
    writer thread sends the answers, as chgate's does."""
    data = os.path.join(workdir, f"echo-{index}")
    os.makedirs(data)
    port = free_port()
    proc = subprocess.Popen([ECHO, "durable-direct" if direct else "durable", str(port), data, "2"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        cpu0 = cpu_seconds(proc.pid)
        out = sh(LOAD, "--url", f"127.0.0.1:{port}", "--connections", str(connections),
                 "--events", "1", "--duration", str(seconds), "--json",
                 capture_output=True).stdout
        cpu1 = cpu_seconds(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)
    result = json.loads(out)
    result["cpu_us_per_request"] = (cpu1 - cpu0) * 1e6 / max(1, result["accepted_requests"])
    result["syncs"] = "-"
    result["verify"] = {"ok": True}  # nothing to verify: no ClickHouse behind it
    return result


def run_mode(ack, fsync, seconds, connections, ch_url, db, workdir, index):
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
    out = sh(LOAD, "--url", f"127.0.0.1:{port}", "--connections", str(connections), "--events", "1",
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
    ap.add_argument("--connections", default="64,512",
                    help="comma-separated connection counts (default 64,512)")
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
        counts = [int(c) for c in args.connections.split(",")]
        runs = {c: {m: [] for m in MODES} for c in counts}
        index = 0
        for conns in counts:
            for round_ in range(args.rounds):
                for mode in MODES:
                    index += 1
                    if mode.startswith("echo"):
                        r = run_echo(args.seconds, conns, workdir, index, mode == "echo-direct")
                    else:
                        r = run_mode(mode, args.fsync, args.seconds, conns, ch_url, db, workdir,
                                     index)
                    runs[conns][mode].append(r)
                    ok = r.get("verify", {}).get("ok")
                    print(f"{conns:4} conns round {round_ + 1} {mode:11}: "
                          f"{r['requests_per_second']:9.0f} req/s  p50 {r['p50_ms']:.2f} ms  "
                          f"p99 {r['p99_ms']:.2f} ms  cpu {r['cpu_us_per_request']:.1f} us/req  "
                          f"syncs {r['syncs']}  verify {'OK' if ok else 'FAILED'}", flush=True)
                    if not ok:
                        raise SystemExit("verification failed: ClickHouse does not hold exactly "
                                         "what was acknowledged")
    finally:
        sh(os.path.join(ROOT, "deploy", "clickhouse.sh"), "stop", ch_dir, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    today = datetime.date.today().isoformat()
    cpu = platform.processor() or platform.machine()
    lines = [
        f"# Durable acks against the physical limit ({today})",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
        f"ClickHouse {subprocess.run(['clickhouse-server', '--version'], capture_output=True, text=True).stdout.strip() or '18.16'} "
        "on the same machine.",
        f"Command: `loadtest/bench.sh --durable --connections {args.connections} --rounds {args.rounds} "
        f"--seconds {args.seconds} --fsync {args.fsync}`",
        "Workload: chgate-load, keep-alive connections, one analytics-example event per POST, "
        "each connection waiting for its answer; chgate's table events hybrid 5000 rows / 1 s, "
        "two io threads; each chgate run verified (ClickHouse holds exactly the acknowledged "
        "events). durable-echo (loadtest/baseline_server.cpp): two io threads append each body to "
        "one file, one thread group-commits it with fdatasync, and the answer goes out after "
        "the sync that covers it: from the connection's io thread (`echo`, "
        "`baseline-server durable`), or sent by the writer thread straight to the socket while "
        "the connection reads on, as chgate does (`echo-direct`, `baseline-server durable-direct`).",
        "",
        "| connections | round | mode | requests/s | p50 ms | p99 ms | CPU µs/request | fsyncs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = []
    for conns in counts:
        for i in range(args.rounds):
            for mode in MODES:
                r = runs[conns][mode][i]
                lines.append(f"| {conns} | {i + 1} | {mode} | {r['requests_per_second']:.0f} | "
                             f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                             f"{r['cpu_us_per_request']:.1f} | {r['syncs']} |")
        med = {m: statistics.median(r["requests_per_second"] for r in runs[conns][m])
               for m in MODES}
        per_round = lambda a, b: ", ".join(
            f"{x['requests_per_second'] / y['requests_per_second']:.2f}"
            for x, y in zip(runs[conns][a], runs[conns][b]))
        summary += [
            f"- **{conns} connections**: medians buffered {med['buffered']:.0f}, durable "
            f"{med['durable']:.0f}, echo {med['echo']:.0f}, echo-direct {med['echo-direct']:.0f} "
            f"requests/s. **durable ÷ echo-direct = {med['durable'] / med['echo-direct']:.2f}** "
            f"(per round {per_round('durable', 'echo-direct')}; target ≥ 0.9); durable ÷ echo = "
            f"{med['durable'] / med['echo']:.2f} (per round {per_round('durable', 'echo')}); "
            f"durable ÷ buffered = {med['durable'] / med['buffered']:.2f} "
            f"(per round {per_round('durable', 'buffered')})."]
    lines += [""] + summary + [""]
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
