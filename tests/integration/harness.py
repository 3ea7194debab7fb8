"""Helpers for chgate's integration tests: a real ClickHouse (started by the
ctest fixture, see CMakeLists.txt) and real chgate processes.

Only the standard library is used, so the tests run wherever python3 does.
"""

import gzip
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

CHGATE_BIN = os.environ.get("CHGATE_BIN", "")
CH_DIR = os.environ.get("CHGATE_TEST_CH_DIR", "")
SOURCE_DIR = os.environ.get("CHGATE_SOURCE_DIR", "")
# Under AddressSanitizer, memory figures (RSS) mean nothing.
SANITIZED = os.environ.get("CHGATE_SANITIZED", "0") == "1"


def wait_until(predicate, timeout, interval=0.05, message="condition"):
    """Polls predicate() until it returns something truthy; returns that value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


class ClickHouse:
    """The test server, over its HTTP interface."""

    def __init__(self, port):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def query(self, sql, database=None):
        params = {"database": database} if database else {}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", "/?" + urllib.parse.urlencode(params), body=sql.encode())
            resp = conn.getresponse()
            body = resp.read().decode()
        finally:
            conn.close()
        if resp.status != 200:
            raise RuntimeError(f"ClickHouse {resp.status} for {sql!r}: {body}")
        return body

    def rows(self, sql, database=None):
        text = self.query(sql + " FORMAT JSONEachRow", database)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def count(self, database, table, where="1"):
        return int(self.query(f"SELECT count() FROM `{database}`.`{table}` WHERE {where}"))

    def insert_queries(self, database, table):
        """How many INSERTs into the table finished, from system.query_log
        (the fixture's server runs with log_queries=1). An INSERT's rows can be
        counted a moment before its query is logged as finished: read until two
        reads 0.3 s apart agree."""
        prefix = f"INSERT INTO `{database}`.`{table}`"

        def count():
            self.query("SYSTEM FLUSH LOGS")
            return int(self.query(
                "SELECT count() FROM system.query_log WHERE type = 2 "
                f"AND startsWith(query, '{prefix}')"))

        last = count()
        for _ in range(20):
            time.sleep(0.3)
            now = count()
            if now == last:
                break
            last = now
        return last

    def create_database(self, prefix):
        name = f"it_{prefix}_{uuid.uuid4().hex[:8]}"
        self.query(f"CREATE DATABASE `{name}`")
        return name

    def drop_database(self, name):
        self.query(f"DROP DATABASE IF EXISTS `{name}`")


def test_clickhouse():
    if not CH_DIR:
        raise unittest.SkipTest("CHGATE_TEST_CH_DIR is not set; run the tests through ctest")
    with open(os.path.join(CH_DIR, "http_port")) as f:
        return ClickHouse(int(f.read().strip()))


def make_config(database, tables, clickhouse_url, storage_dir=None, **sections):
    """chgate's YAML config as JSON (YAML's flow style), listening on a free port,
    with its write-ahead logs in `storage_dir` (a new temporary directory if None)."""
    if storage_dir is None:
        storage_dir = tempfile.mkdtemp(prefix="chgate-it-storage-")
    cfg = {
        "server": {"listen": "127.0.0.1:0", "threads": 2, "shutdown_timeout": "10s"},
        "storage": {"dir": storage_dir},
        "clickhouse": {"url": clickhouse_url, "database": database, "probe_interval": "500ms",
                       "settings": {"date_time_input_format": "best_effort"}},
        "batching": {"tables": tables},
        "log": {"level": "debug"},
    }
    for section, values in sections.items():
        cfg.setdefault(section, {}).update(values)
    return json.dumps(cfg, indent=1)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


class Chgate:
    """A chgate process with its own config file, on a port the OS picked."""

    LISTEN_RE = re.compile(r"listening on [0-9.]+:(\d+)")
    READY_MARK = "ready: replayed"  # logged once the write-ahead logs are replayed

    def __init__(self, config_text, env=None, start_timeout=20, max_file_size=None, args=None,
                 wait_replayed=True):
        self.dir = tempfile.mkdtemp(prefix="chgate-it-")
        self.config_path = os.path.join(self.dir, "chgate.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.lines = []
        self._lock = threading.Lock()
        self.port = None
        self.replayed = False
        # Sent by metrics(): set by IntegrationTest.start when metrics.token is.
        self.metrics_headers = {}
        full_env = dict(os.environ)
        full_env.update(env or {})
        def limit_file_size():
            # Writes past the limit fail with EFBIG, like a full disk, instead
            # of killing chgate with SIGXFSZ.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size, max_file_size))

        self.proc = subprocess.Popen([CHGATE_BIN, "--config", self.config_path] + (args or []),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=full_env,
                                     preexec_fn=limit_file_size if max_file_size else None)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # Started once it listens and has replayed its logs: until then ingest
        # answers 503 (slow to come under the sanitizers).
        try:
            wait_until(lambda: (self.port and (self.replayed or not wait_replayed)) or
                       self.proc.poll() is not None,
                       start_timeout, message="chgate to listen and replay its logs")
        except AssertionError:
            self.proc.kill()
            raise AssertionError("chgate did not start:\n" + self.log())
        if self.port is None or (wait_replayed and not self.replayed):
            raise AssertionError(f"chgate exited with {self.proc.returncode}:\n" + self.log())

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
            m = self.LISTEN_RE.search(line)
            if m and self.port is None:
                self.port = int(m.group(1))
            if self.READY_MARK in line:
                self.replayed = True

    def log(self):
        with self._lock:
            return "\n".join(self.lines)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Response(resp.status, dict(resp.getheaders()), resp.read().decode(errors="replace"))
        finally:
            conn.close()

    def post_events(self, table, body, headers=None, timeout=30):
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        return self.request("POST", f"/v1/events/{table}", body, headers, timeout=timeout)

    def post_gzip(self, table, text):
        return self.post_events(table, gzip.compress(text.encode()), {"Content-Encoding": "gzip"})

    def metrics(self):
        r = self.request("GET", "/metrics", headers=self.metrics_headers)
        assert r.status == 200, r
        return r.json()

    def stop(self, sig=signal.SIGTERM, timeout=90):
        """Sends `sig` (unless None) and returns the exit status."""
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("chgate did not stop in time:\n" + self.log())
        self._reader.join(timeout=5)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # A graceful stop, so that LeakSanitizer runs and its report is read.
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()


class Loader:
    """Threads posting small batches of uniquely numbered events over keep-alive
    connections, remembering which ids chgate acknowledged."""

    def __init__(self, port, table, threads=8, per_request=5, pause=0.0, pad=0, headers=None):
        self.port, self.table, self.per_request, self.pause = port, table, per_request, pause
        self.headers = headers or {}
        self.pad = "x" * pad  # a "pad" field of this many bytes in each event, if any
        self.acked = set()
        self.statuses = {}     # status -> count
        self.retry_after = 0   # 429/503 answers that carried Retry-After
        self.unanswered = set()  # sent, but the answer never came
        self.errors = {}  # id -> the error of a non-2xx answer
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t,), daemon=True)
                        for t in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def run(self, worker):
        conn = None
        seq = 0
        while not self.stop.is_set():
            ids = [f"w{worker}-{seq + i}" for i in range(self.per_request)]
            seq += self.per_request
            body = json.dumps([{"id": i, "n": 1, **({"pad": self.pad} if self.pad else {})}
                               for i in ids])
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("POST", f"/v1/events/{self.table}", body=body, headers=self.headers)
                resp = conn.getresponse()
                answer = resp.read()
                with self.lock:
                    self.statuses[resp.status] = self.statuses.get(resp.status, 0) + 1
                    if resp.status >= 300:
                        try:
                            error = json.loads(answer).get("error", "")
                        except ValueError:
                            error = answer.decode(errors="replace")
                        self.errors.update((i, error) for i in ids)
                    if resp.status in (429, 503) and resp.getheader("Retry-After"):
                        self.retry_after += 1
                    if resp.status == 202:
                        self.acked.update(ids)
                if self.pause:
                    time.sleep(self.pause)
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.unanswered.update(ids)
                conn = None
                time.sleep(0.05)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Forwarder:
    """A TCP proxy to ClickHouse that the test can open and close, to stage an outage."""

    def __init__(self, target_port):
        self.port = free_port()
        self.target = target_port
        self.server = None
        self.conns = []

    def open(self):
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def close(self):
        if self.server:
            # As for connections: shutdown() wakes the accept() in the other
            # thread; close() alone would leave the port accepting.
            try:
                self.server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.server.close()
            self.server = None
        for c in self.conns:
            # shutdown() first: close() alone leaves a recv() in another thread,
            # and so the connection, alive.
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        self.conns = []

    def _accept(self, server):
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass


def restart_clickhouse(down_seconds, while_down=None):
    """Stops the test ClickHouse, waits (running `while_down`), and starts it
    again on the same ports with the same data."""
    script = os.path.join(SOURCE_DIR, "deploy", "clickhouse.sh")
    with open(os.path.join(CH_DIR, "http_port")) as f:
        http_port = f.read().strip()
    with open(os.path.join(CH_DIR, "tcp_port")) as f:
        tcp_port = f.read().strip()
    subprocess.run([script, "stop", CH_DIR], check=True, capture_output=True)
    try:
        started = time.monotonic()
        if while_down:
            while_down()
        time.sleep(max(0.0, down_seconds - (time.monotonic() - started)))
    finally:
        subprocess.run([script, "start", CH_DIR, http_port, tcp_port, "--test"], check=True,
                       capture_output=True)


def cpu_seconds(pid):
    """User plus system CPU time the process has used, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def raw_request(port, data, timeout=10):
    """Sends raw bytes on a new connection and returns everything the server
    sends back until it closes the connection or `timeout` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except socket.timeout:
            pass
        return b"".join(chunks)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class IntegrationTest(unittest.TestCase):
    """Each test gets its own database holding SCHEMA (table name -> columns)."""

    SCHEMA = {}
    ENGINE = "MergeTree() ORDER BY tuple()"

    @classmethod
    def setUpClass(cls):
        if not CHGATE_BIN:
            raise unittest.SkipTest("CHGATE_BIN is not set; run the tests through ctest")
        cls.ch = test_clickhouse()

    def setUp(self):
        self.db = self.ch.create_database(self._testMethodName[5:25])
        self.addCleanup(self.ch.drop_database, self.db)
        for table, columns in self.SCHEMA.items():
            self.ch.query(f"CREATE TABLE `{self.db}`.`{table}` ({columns}) ENGINE = {self.ENGINE}")

    def config(self, tables, storage_dir=None, **sections):
        return make_config(self.db, tables, self.ch.url, storage_dir, **sections)

    def small_disk(self, mib):
        """A directory on a filesystem of its own, `mib` MiB of ext4 on a loop
        device, unmounted after the test: a disk that really fills up. Skips
        the test where mounting is not allowed (it needs root)."""
        if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
            self.skipTest("a loop-mounted filesystem needs root and mkfs.ext4")
        work = tempfile.mkdtemp(prefix="chgate-it-disk-")
        self.addCleanup(shutil.rmtree, work, True)
        image, mount = os.path.join(work, "disk.img"), os.path.join(work, "mnt")
        os.mkdir(mount)
        with open(image, "wb") as f:
            f.truncate(mib << 20)
        # -m 0: no blocks reserved for root, which chgate runs as here.
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", image], check=True, capture_output=True)
        mounted = subprocess.run(["mount", "-o", "loop", image, mount], capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest(f"cannot loop-mount a filesystem here: {mounted.stderr.strip()}")
        # Lazily: a chgate still holding files (after a failed assertion) must
        # not keep the loop device, or the directory, from going.
        self.addCleanup(subprocess.run, ["umount", "-l", mount], capture_output=True)
        return mount

    def storage_dir(self):
        """A directory for write-ahead logs, removed after the test."""
        d = tempfile.mkdtemp(prefix="chgate-it-storage-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def start(self, tables, storage_dir=None, max_file_size=None, env=None, **sections):
        gate = Chgate(self.config(tables, storage_dir or self.storage_dir(), **sections),
                      max_file_size=max_file_size, env=env)
        token = (sections.get("metrics") or {}).get("token")
        if token:
            gate.metrics_headers = {"Authorization": f"Bearer {token}"}
        # Cleanups run last-in first-out: stop the process, then read its log.
        self.addCleanup(self.assert_no_sanitizer_report, gate)
        self.addCleanup(gate.__exit__)
        self.addCleanup(self._dump_log_on_failure, gate)
        return gate

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer")

    def assert_no_sanitizer_report(self, gate):
        """Under CHGATE_SANITIZE=1, a report in chgate's output fails the test."""
        log = gate.log()
        for mark in self.SANITIZER_MARKS:
            self.assertNotIn(mark, log, f"sanitizer report in chgate's output:\n{log}")

    def _dump_log_on_failure(self, gate):
        outcome = getattr(self, "_outcome", None)
        errors = getattr(getattr(outcome, "result", None), "errors", []) + \
            getattr(getattr(outcome, "result", None), "failures", [])
        if any(test is self for test, _ in errors):
            print(f"\n--- chgate log for {self.id()} ---\n{gate.log()}\n---")

    def count(self, table, where="1"):
        return self.ch.count(self.db, table, where)

    def wait_for_count(self, table, expected, timeout=10, where="1"):
        wait_until(lambda: self.count(table, where) == expected, timeout,
                   message=f"{expected} rows in {table}")
