"""Looking at a running chgate: GET /ui loaded in Debian's headless Chromium
(its DOM read back, a screenshot taken), `chgate top` driven in tmux and its
screen read, `chgate status --json`, the metrics token guarding them, and
`chgate status` against a server that never ends its answer or never sends one."""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from harness import CHGATE_BIN, SANITIZED, IntegrationTest, wait_until

SOURCE = os.environ.get("CHGATE_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
COLUMNS = "id UInt32, note String"
METRICS_TOKEN = "ui-metrics-token-4e8b1f0a"
TABLES = {"events": {"strategy": "hybrid", "max_batch_time": "200ms", "ack": "durable"},
          "orders": {"strategy": "size", "max_batch_size": 1000, "ack": "buffered"},
          # Configured, but missing in ClickHouse: held.
          "missing": {"strategy": "hybrid", "max_batch_time": "100ms"}}


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    raise AssertionError("chromium is not installed: deploy/install-deps.sh installs it")


def headless(url, *args, timeout=120):
    """Chromium without a display, as root too (no sandbox), with a profile of its own."""
    profile = tempfile.mkdtemp(prefix="chgate-it-chromium-")
    try:
        done = subprocess.run(
            [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--virtual-time-budget=6000", *args, url],
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return done


class StatusPageTest(IntegrationTest):
    SCHEMA = {"events": COLUMNS, "orders": COLUMNS}

    def gate(self, **sections):
        g = self.start(TABLES, **sections)
        for i in range(30):
            self.assertEqual(g.post_events("events", [{"id": i, "note": "ui"}]).status, 202)
        self.assertEqual(g.post_events("orders", [{"id": i, "note": "o"} for i in range(5)])
                         .status, 202)
        self.assertEqual(g.post_events("missing", {"id": 1, "note": "held"}).status, 202)
        self.wait_for_count("events", 30)
        wait_until(lambda: g.metrics()["tables"]["missing"]["held"], 15,
                   message="table missing held")
        return g

    def test_the_status_page_in_chromium(self):
        if SANITIZED:
            # Chromium's time, not chgate's: the page's handler is the same
            # static answer the other tests here fetch under the sanitizers.
            self.skipTest("not under the sanitizers (deploy/test.sh keeps CI under 45 min)")
        g = self.gate()
        r = g.request("GET", "/ui")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", r.headers["Content-Security-Policy"])
        self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
        self.assertNotIn("http://", r.body.replace("http://www.w3.org", ""),
                         "the page loads nothing from elsewhere")

        done = headless(f"http://127.0.0.1:{g.port}/ui", "--dump-dom")
        dom = done.stdout
        self.assertIn('data-table="events"', dom, done.stderr[-2000:])
        self.assertIn('data-table="orders"', dom)
        self.assertIn('data-table="missing"', dom)
        self.assertIn("HELD:", dom)
        self.assertIn(f'data-server="{self.ch.url}"', dom)
        self.assertIn("not ready", dom)  # a held table makes /readyz fail
        # The numbers: 5 rows of orders wait in the open buffer (size 1000).
        row = dom[dom.index('data-table="orders"'):]
        row = row[:row.index("</tr>")]
        self.assertIn('data-field="buffered_rows">5<', row)
        self.assertIn('data-field="strategy">size<', row)
        # Charts of the last minutes: a canvas per series.
        self.assertIn('data-series="events/s events"', dom)
        self.assertIn("<canvas", dom)

        shot = os.path.join(tempfile.mkdtemp(prefix="chgate-it-shot-"), "ui.png")
        self.addCleanup(shutil.rmtree, os.path.dirname(shot), True)
        done = headless(f"http://127.0.0.1:{g.port}/ui", f"--screenshot={shot}",
                        "--window-size=1280,900")
        self.assertTrue(os.path.exists(shot), done.stderr[-2000:])
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        if os.environ.get("CHGATE_UPDATE_SCREENSHOT") == "1":
            shutil.copy(shot, os.path.join(SOURCE, "docs", "status-page.png"))

    def test_the_metrics_token_guards_the_page_and_a_browser_may_send_it_as_basic_auth(self):
        g = self.gate(metrics={"token": METRICS_TOKEN})
        r = g.request("GET", "/ui")
        self.assertEqual(r.status, 401)
        self.assertIn("Basic", r.headers["WWW-Authenticate"])  # a browser prompts
        self.assertNotIn("<script", r.body)
        basic = "Basic " + base64.b64encode(f"ops:{METRICS_TOKEN}".encode()).decode()
        self.assertEqual(g.request("GET", "/ui", headers={"Authorization": basic}).status, 200)
        self.assertEqual(g.request("GET", "/metrics", headers={"Authorization": basic}).status,
                         200)
        wrong = "Basic " + base64.b64encode(b"ops:wrong-token-000000").decode()
        self.assertEqual(g.request("GET", "/ui", headers={"Authorization": wrong}).status, 403)
        # /metrics keeps asking for a Bearer token: scripts, not browsers.
        self.assertIn("Bearer", g.request("GET", "/metrics").headers["WWW-Authenticate"])

        # chgate status with the token from the environment; without it, exit 1.
        url = f"http://127.0.0.1:{g.port}"
        env = dict(os.environ, CHGATE_METRICS_TOKEN=METRICS_TOKEN)
        done = subprocess.run([CHGATE_BIN, "status", "--json", "--url", url, "--interval",
                               "300ms"], capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        status = json.loads(done.stdout)
        self.assertFalse(status["ready"])
        tables = {t["table"]: t for t in status["tables"]}
        self.assertEqual(tables["orders"]["buffered_rows"], 5)
        self.assertTrue(tables["missing"]["held"])
        self.assertEqual(status["clickhouse"]["servers"][0]["url"], self.ch.url)
        env.pop("CHGATE_METRICS_TOKEN")
        done = subprocess.run([CHGATE_BIN, "status", "--url", url], capture_output=True,
                              text=True, timeout=30, env=env)
        self.assertEqual(done.returncode, 1)
        self.assertIn("401", done.stderr)
        self.assertIn("CHGATE_METRICS_TOKEN", done.stderr)
        self.assertNotIn(METRICS_TOKEN, done.stdout + done.stderr)

    def test_chgate_top_in_tmux(self):
        if not shutil.which("tmux"):
            self.fail("tmux is not installed: deploy/install-deps.sh installs it")
        g = self.gate()
        session = f"chgate-top-{uuid.uuid4().hex[:8]}"
        # A server of its own, so the test touches no tmux the machine runs.
        socket = os.path.join(tempfile.mkdtemp(prefix="chgate-it-tmux-"), "sock")
        tmux = ["tmux", "-S", socket]
        subprocess.run(tmux + ["new-session", "-d", "-s", session, "-x", "150", "-y", "40",
                               f"{CHGATE_BIN} top --url http://127.0.0.1:{g.port} "
                               "--interval 500ms"], check=True, timeout=30)
        self.addCleanup(shutil.rmtree, os.path.dirname(socket), True)
        self.addCleanup(subprocess.run, tmux + ["kill-server"], capture_output=True)

        def screen():
            return subprocess.run(tmux + ["capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True, timeout=10).stdout

        wait_until(lambda: "orders" in screen() and "CLICKHOUSE" in screen(), 20,
                   interval=0.2, message="chgate top to draw its screen")
        # Traffic while it runs: the events row shows a rate.
        for i in range(40):
            g.post_events("events", [{"id": 100 + i, "note": "top"}])
            time.sleep(0.02)
        lines = screen().splitlines()
        orders = next(l for l in lines if l.startswith("orders"))
        self.assertEqual(orders.split()[1:3], ["size", "buffered"])
        self.assertEqual(orders.split()[5], "5")  # BUFFERED
        self.assertTrue(any(l.startswith("missing") and "HELD" in l for l in lines), lines)
        self.assertTrue(any(self.ch.url in l and "yes" in l and "closed" in l for l in lines))
        self.assertIn("NOT READY", lines[0])
        self.assertTrue(all(len(l) <= 150 for l in lines))
        # Ctrl-C ends it, and with it the session.
        subprocess.run(tmux + ["send-keys", "-t", session, "C-c"], timeout=10)
        wait_until(lambda: subprocess.run(tmux + ["has-session", "-t", session],
                                          capture_output=True).returncode != 0, 10,
                   message="chgate top to exit on Ctrl-C")


class HostileServer:
    """Answers every request on a loopback port in one of two bad ways:
    `endless` sends a 200 whose body never ends, `silent` reads the request
    and never answers."""

    def __init__(self, how):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.how, self.stop = how, threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn:
            try:
                conn.recv(65536)
                if self.how == "endless":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[")
                    chunk = b"1," * 65536
                    while not self.stop.is_set():
                        conn.sendall(chunk)
                else:
                    self.stop.wait(30)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()


class StatusAgainstAHostileServerTest(unittest.TestCase):
    """`chgate status` reads what answers at --url, which may be anything:
    an endless body is cut at 64 MiB and a silent server at 5 s, each an
    error with exit 1, not a hang or a process that grows without bound."""

    def status(self, how):
        server = HostileServer(how)
        self.addCleanup(server.close)
        start = time.monotonic()
        done = subprocess.run([CHGATE_BIN, "status", "--url", f"http://127.0.0.1:{server.port}"],
                              capture_output=True, text=True, timeout=60)
        return done, time.monotonic() - start

    def test_an_endless_body_is_cut(self):
        done, _ = self.status("endless")
        self.assertEqual(done.returncode, 1, done.stdout)
        self.assertIn("/metrics: the answer is over 67108864 bytes", done.stderr)

    def test_a_server_that_never_answers_times_out(self):
        done, took = self.status("silent")
        self.assertEqual(done.returncode, 1, done.stdout)
        self.assertIn("/metrics: Timeout was reached", done.stderr)
        self.assertLess(took, 30)


if __name__ == "__main__":
    unittest.main()
