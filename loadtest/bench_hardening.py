#!/usr/bin/env python3
"""What the hardening costs, measured in one run (loadtest/bench.sh --only tls,idle):

  tls   single-event POSTs over 64 keep-alive connections (wrk), to one chgate
        over HTTPS and one over plain HTTP, alternated round after round, with
        ack buffered and durable: events per second landed in ClickHouse, and
        HTTPS ÷ HTTP per round and its median.
  idle  10,000 keep-alive connections, each having sent one 1 MiB request
        (a body chgate reads whole, then refuses as invalid JSON), then idle:
        chgate's RSS before and after. The target: at most 64 MiB more.

Writes loadtest/results/DATE-hardening.md.
"""

import argparse
import asyncio
import datetime
import json
import os
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import DB, ROOT, ClickHouse, log, sh, wait_landed, wrk, write_body  # noqa: E402


def rss_kib(pid):
    return bench.proc_status_kib(pid, "VmRSS")


def certificates(workdir):
    """A CA and a certificate for 127.0.0.1, made here with openssl."""
    d = os.path.join(workdir, "tls")
    os.makedirs(d)
    run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=bench CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    return {k: os.path.join(d, v) for k, v in
            (("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"))}


class Gate:
    """A chgate process for these runs: plain, or HTTPS with `certs`."""

    def __init__(self, workdir, name, ch, tables, server=None, nofile=None, certs=None, env=None):
        self.storage = os.path.join(workdir, f"storage-{name}")
        self.port = bench.free_port()
        self.tls = certs is not None
        server = dict(server or {})
        if certs:
            server["tls"] = {"cert_file": certs["cert"], "key_file": certs["key"]}
        config = os.path.join(workdir, f"chgate-{name}.yaml")
        with open(config, "w") as f:
            json.dump({"server": {"listen": f"127.0.0.1:{self.port}", "threads": 1, **server},
                       "clickhouse": {"url": ch.url, "database": DB},
                       "storage": {"dir": self.storage},
                       "batching": {"max_memory": bench.BUFFER_MEMORY, "tables": tables},
                       "log": {"level": "warn"}}, f)

        def limits():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen([bench.CHGATE, "--config", config], preexec_fn=limits,
                                     stderr=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))
        ctx = ssl.create_default_context(cafile=certs["ca"]) if certs else None
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=1, context=ctx) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    self.proc.kill()
                    raise RuntimeError(f"chgate {name} did not become ready")
                time.sleep(0.1)

    def url(self, path):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        shutil.rmtree(self.storage, ignore_errors=True)


def run_tls(workdir, ch, seconds, rounds):
    certs = certificates(workdir)
    one, _ = write_body(workdir, "tls-one", 1, "object")
    rows = {}  # (ack, scheme) -> [landed events/s per round]
    for ack in ("buffered", "durable"):
        tables = {"events": {"strategy": "hybrid", "max_batch_size": 50000,
                             "max_batch_time": "500ms", "max_memory": "128MiB", "ack": ack,
                             "compression": "none"}}
        for r in range(rounds):
            for scheme in ("http", "https"):
                ch.reset()
                g = Gate(workdir, f"{scheme}-{ack}-{r}", ch, tables,
                         certs=certs if scheme == "https" else None)
                start = time.monotonic()
                w = wrk(g.url("/v1/events/events"), one, "application/json", 64, seconds)
                landed, _ = wait_landed(ch, "events", w["accepted"], start)
                g.stop()
                rate = landed / w["seconds"]
                rows.setdefault((ack, scheme), []).append(rate)
                log(f"tls: {ack} {scheme} round {r + 1}: {w['accepted'] / w['seconds']:.0f} req/s, "
                    f"{rate:.0f} landed/s, p99 {w['p99_us'] / 1000:.2f} ms")
    lines = ["## HTTPS against plain HTTP", "",
             f"`loadtest/bench.sh --only tls --seconds {seconds} --rounds {rounds}`: single-event "
             "POSTs, 64 keep-alive connections, wrk (one thread), chgate with one io thread; a "
             "chgate over HTTPS (RSA 2048, the TLS version OpenSSL negotiates) and one over plain "
             "HTTP, alternated round after round.", "",
             "| ack | HTTP landed events/s (median) | HTTPS (median) | HTTPS ÷ HTTP per round | median |",
             "|---|---|---|---|---|"]
    for ack in ("buffered", "durable"):
        http, https = rows[(ack, "http")], rows[(ack, "https")]
        ratios = [b / a if a else 0 for a, b in zip(http, https)]
        lines.append(f"| {ack} | {statistics.median(http):,.0f} | {statistics.median(https):,.0f} | "
                     f"{' '.join(f'{x:.2f}' for x in ratios)} | **{statistics.median(ratios):.2f}** |")
    return lines


async def idle_clients(port, connections, body_size, in_flight):
    """Opens `connections` keep-alive connections; each sends one request with a
    body of `body_size` bytes and reads the answer; at most `in_flight` at once.
    Returns the open connections and the statuses."""
    body = b"[" + b" " * (body_size - 2) + b"x"  # read whole, then refused as invalid JSON
    head = (f"POST /v1/events/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    gate = asyncio.Semaphore(in_flight)
    statuses = {}
    conns = []

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conns.append(writer)
        async with gate:
            writer.write(head)
            writer.write(body)
            await writer.drain()
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one() for _ in range(connections)))
    return conns, statuses


def run_idle(workdir, ch, connections=10_000, body_size=1 << 20):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = connections + 1000
    if hard < want:
        raise RuntimeError(f"idle: needs {want} file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    tables = {"events": {"ack": "buffered"}}
    g = Gate(workdir, "idle", ch, tables,
             server={"max_connections": connections + 100,
                     "max_connections_per_ip": connections + 100,
                     "idle_timeout": "10m"}, nofile=want,
             env=json.loads(os.environ.get("BENCH_CHGATE_ENV", "{}")))
    try:
        # Warm up: a few requests of each kind, so the allocator has its arenas.
        asyncio.run(idle_clients(g.port, 64, body_size, 16))
        time.sleep(1)
        before = rss_kib(g.proc.pid)
        started = time.monotonic()
        loop = asyncio.new_event_loop()
        conns, statuses = loop.run_until_complete(idle_clients(g.port, connections, body_size, 32))
        took = time.monotonic() - started
        time.sleep(2)
        after = rss_kib(g.proc.pid)
        with urllib.request.urlopen(g.url("/metrics"), timeout=10) as r:
            open_now = json.load(r)["server"]["connections"]
        for w in conns:
            w.close()
        loop.close()
    finally:
        g.stop()
    grown_mib = (after - before) / 1024
    log(f"idle: {connections} connections, statuses {statuses}, RSS {before / 1024:.1f} -> "
        f"{after / 1024:.1f} MiB ({grown_mib:+.1f} MiB) in {took:.0f} s")
    return ["## Idle connections", "",
            f"`loadtest/bench.sh --only idle`: {connections:,} keep-alive connections, each "
            f"having sent one {body_size // (1 << 20)} MiB request (read whole, then refused as "
            "invalid JSON: `400`), then idle; chgate (one io thread) measured before and 2 s after.",
            "", "| connections open | answers | RSS before | RSS after | added | per connection | target |",
            "|---|---|---|---|---|---|---|",
            f"| {open_now:,} | {', '.join(f'{n:,}× {s}' for s, n in sorted(statuses.items()))} | "
            f"{before / 1024:.1f} MiB | {after / 1024:.1f} MiB | **{grown_mib:.1f} MiB** | "
            f"{(after - before) * 1024 / connections:,.0f} bytes | ≤ 64 MiB: "
            f"{'met' if grown_mib <= 64 else 'MISSED'} |"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="tls,idle")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=10_000)
    ap.add_argument("--output", default=None)
    args, _ = ap.parse_known_args(argv)
    parts = set(args.only.split(","))
    workdir = tempfile.mkdtemp(prefix="chgate-bench-hardening-")
    ch = None
    lines = [f"# Hardening costs, {datetime.date.today().isoformat()}", ""]
    try:
        ch = ClickHouse(workdir)
        ch.query(f"CREATE DATABASE IF NOT EXISTS {DB}")
        sh(os.path.join(ROOT, "deploy", "apply-sql.sh"), ch.url,
           os.path.join(ROOT, "deploy", "sql", "chgate.sql"), DB, capture_output=True)
        lines += [bench.machine(ch), ""]
        if "tls" in parts:
            lines += run_tls(workdir, ch, args.seconds, args.rounds) + [""]
        if "idle" in parts:
            lines += run_idle(workdir, ch, args.connections) + [""]
    finally:
        if ch:
            ch.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    out = args.output or os.path.join(ROOT, "loadtest", "results",
                                      f"{datetime.date.today().isoformat()}-hardening.md")
    with open(out, "w") as f:
        f.write(text + "\n")
    log(f"written to {out}")


if __name__ == "__main__":
    main()
