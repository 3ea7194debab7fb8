"""Access by token, per table, at a rate; the admin and metrics tokens; the
address rules. Real clients: curl, Python's requests, a ClickHouse HTTP
client's headers (X-ClickHouse-Key, Basic auth), and the official ClickHouse
JavaScript client (@clickhouse/client, installed by deploy/test.sh with npm
into examples/clients/node/)."""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse

from harness import Chgate, IntegrationTest, make_config, wait_until

COLUMNS = "id UInt32, note String"
FAST = {"strategy": "hybrid", "max_batch_time": "200ms"}
WEB = "web-token-8f3a1c9e2b7d4a60"
ETL = "etl-token-1d5e8b2c9f0a7e43"
TOKENS = [
    {"name": "web", "token": WEB, "tables": ["events"], "max_events_per_second": 50},
    {"name": "etl", "token": ETL, "tables": ["events", "orders"]},
]


def rows(n, note="x", start=0):
    return [{"id": start + i, "note": note} for i in range(n)]


def curl(*args):
    done = subprocess.run(["curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code}", *args],
                          capture_output=True, text=True, timeout=30)
    return int(done.stdout), done.stderr


def python_requests(url, token, body):
    """A POST with Python's requests (Debian's python3-requests)."""
    script = ("import json, sys, requests\n"
              "r = requests.post(sys.argv[1], data=sys.argv[3].encode(), "
              "headers={'Authorization': 'Bearer ' + sys.argv[2]}, timeout=10)\n"
              "print(json.dumps({'status': r.status_code, 'body': r.text}))\n")
    done = subprocess.run(["/usr/bin/python3", "-c", script, url, token, body],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    return json.loads(done.stdout)


CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                       "clients", "node")


def clickhouse_js_insert(url, user, password, table, values):
    """An INSERT through @clickhouse/client (Basic auth, query_id, a chunked body)."""
    if not os.path.isdir(os.path.join(CLIENTS, "node_modules", "@clickhouse", "client")):
        raise AssertionError("@clickhouse/client is not installed: run deploy/test.sh, "
                             "or npm ci in examples/clients/node")
    done = subprocess.run(["node", os.path.join(CLIENTS, "insert.js"), url, user,
                           password, table, json.dumps(values)],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    return json.loads(done.stdout)


class AuthTest(IntegrationTest):
    SCHEMA = {"events": COLUMNS, "orders": COLUMNS, "payments": COLUMNS}

    def gate(self, **sections):
        sections.setdefault("auth", {"tokens": TOKENS})
        return self.start({"events": FAST, "orders": FAST, "payments": FAST}, **sections)

    def test_the_official_javascript_client_with_a_token_as_its_password(self):
        g = self.gate()
        url = f"http://127.0.0.1:{g.port}"
        r = clickhouse_js_insert(url, "etl", ETL, "orders", rows(3, "clickhouse-js"))
        self.assertTrue(r["ok"], r)
        # The web token may not write to orders: the client sees the refusal.
        r = clickhouse_js_insert(url, "web", WEB, "orders", rows(1, "refused"))
        self.assertFalse(r["ok"])
        self.assertIn("may not write to table", r["message"])
        r = clickhouse_js_insert(url, "etl", "wrong-token-0000000000", "orders", rows(1, "no"))
        self.assertFalse(r["ok"])
        self.wait_for_count("orders", 3, where="note = 'clickhouse-js'")
        self.assertEqual(self.ch.query(f"SELECT count() FROM `{self.db}`.orders").strip(), "3")
        self.assertEqual(g.metrics()["auth"]["tokens"]["etl"]["requests"], 1)

    def test_tokens_from_real_clients(self):
        g = self.gate()
        url = f"http://127.0.0.1:{g.port}"
        body = json.dumps(rows(2, "curl"))
        # No token, a wrong one: 401, with WWW-Authenticate.
        r = g.post_events("events", body)
        self.assertEqual(r.status, 401)
        self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""))
        self.assertEqual(curl("-H", "Authorization: Bearer nope-nope-nope-nope",
                              "--data-binary", body, f"{url}/v1/events/events")[0], 401)
        # curl with a Bearer token.
        self.assertEqual(curl("-H", f"Authorization: Bearer {WEB}", "--data-binary", body,
                              f"{url}/v1/events/events")[0], 202)
        # A table outside the token's globs: 403, and nothing stored.
        status, text = curl("-H", f"Authorization: Bearer {WEB}", "--data-binary", body,
                            f"{url}/v1/events/orders")
        self.assertEqual(status, 403)
        self.assertIn("may not write to table", text)
        self.assertNotIn(WEB, text)
        # A ClickHouse HTTP client: X-ClickHouse-Key, or the token as its password.
        query = urllib.parse.quote("INSERT INTO orders FORMAT JSONEachRow")
        self.assertEqual(curl("-H", f"X-ClickHouse-Key: {ETL}", "-H", "X-ClickHouse-User: etl",
                              "--data-binary", json.dumps({"id": 1, "note": "key"}),
                              f"{url}/?query={query}")[0], 200)
        self.assertEqual(curl("-u", f"default:{ETL}", "--data-binary",
                              json.dumps({"id": 2, "note": "basic"}), f"{url}/?query={query}")[0],
                         200)
        # Python's requests.
        r = python_requests(f"{url}/v1/events/events", ETL, json.dumps(rows(3, "requests")))
        self.assertEqual(r["status"], 202, r)
        self.wait_for_count("events", 2, where="note = 'curl'")
        self.wait_for_count("events", 3, where="note = 'requests'")
        self.wait_for_count("orders", 2)
        # /metrics counts per token name, never the token.
        m = g.metrics()
        self.assertEqual(m["auth"]["tokens"]["web"]["requests"], 1)
        self.assertEqual(m["auth"]["tokens"]["web"]["forbidden"], 1)
        self.assertEqual(m["auth"]["tokens"]["etl"]["requests"], 3)
        self.assertGreaterEqual(m["auth"]["unauthorized"], 2)
        prom = g.request("GET", "/metrics/prometheus").body
        self.assertIn('chgate_auth_requests_total{token="web",outcome="admitted"} 1', prom)
        for text in (json.dumps(m), prom, g.log()):
            self.assertNotIn(WEB, text)
            self.assertNotIn(ETL, text)

    def test_past_its_rate_a_token_gets_429_with_the_rate_headers(self):
        g = self.gate()
        headers = {"Authorization": f"Bearer {WEB}"}
        statuses = []
        limited = None
        for i in range(20):
            r = g.post_events("events", rows(10, "rate", i * 10), headers)
            statuses.append(r.status)
            if r.status == 429 and limited is None:
                limited = r
        self.assertIn(202, statuses)
        self.assertIsNotNone(limited, statuses)
        self.assertGreaterEqual(int(limited.headers["Retry-After"]), 1)
        self.assertEqual(limited.headers["X-RateLimit-Limit"], "50")
        self.assertEqual(limited.headers["X-RateLimit-Remaining"], "0")
        self.assertIn("X-RateLimit-Reset", limited.headers)
        # Another token is not slowed by it.
        self.assertEqual(g.post_events("events", rows(100, "etl", 1000),
                                       {"Authorization": f"Bearer {ETL}"}).status, 202)
        time.sleep(1.2)
        self.assertEqual(g.post_events("events", rows(1, "later", 5000), headers).status, 202)
        self.assertGreater(g.metrics()["auth"]["tokens"]["web"]["rate_limited"], 0)

    def test_a_bytes_rate_refuses_before_the_body_is_read(self):
        tokens = [{"name": "bulk", "token": ETL, "max_bytes_per_second": "64KiB"}]
        g = self.gate(auth={"tokens": tokens})
        big = json.dumps(rows(2000, "y" * 40))
        self.assertGreater(len(big), 65536)
        headers = {"Authorization": f"Bearer {ETL}"}
        self.assertEqual(g.post_events("events", big, headers).status, 202)  # full bucket: goes
        with socket.create_connection(("127.0.0.1", g.port), timeout=5) as s:
            s.sendall(f"POST /v1/events/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ETL}\r\n"
                      f"Expect: 100-continue\r\nContent-Length: {len(big)}\r\n\r\n".encode())
            answer = s.recv(4096)
        self.assertRegex(answer, rb"^HTTP/1.1 429 ")  # not 100 Continue

    def test_tokens_reload_with_sighup(self):
        g = self.gate()
        self.assertEqual(g.post_events("events", rows(1), {"Authorization": f"Bearer {WEB}"}).status, 202)
        new = "web-token-rotated-77c1e0b5"
        with open(g.config_path) as f:
            cfg = json.load(f)
        cfg["auth"]["tokens"][0]["token"] = new
        with open(g.config_path, "w") as f:
            json.dump(cfg, f)
        g.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: g.post_events("events", rows(1), {"Authorization": f"Bearer {WEB}"}).status == 401,
                   10, message="the old token refused")
        self.assertEqual(g.post_events("events", rows(1, "new"), {"Authorization": f"Bearer {new}"}).status, 202)
        self.assertIn("auth.tokens", g.log())
        self.assertNotIn(new, g.log())

    def test_an_idempotency_key_is_per_token(self):
        g = self.gate()
        for token in (WEB, ETL):
            r = g.post_events("events", rows(1, token[:3]), {"Authorization": f"Bearer {token}",
                                                             "Idempotency-Key": "same-key"})
            self.assertEqual(r.status, 202)
            self.assertNotIn("Idempotent-Replayed", r.headers)
        self.wait_for_count("events", 2)

    def test_metrics_token(self):
        g = self.gate(metrics={"token": "metrics-token-5b2d9e1f"})
        self.assertEqual(g.request("GET", "/metrics").status, 401)
        self.assertEqual(g.request("GET", "/readyz").status, 401)
        self.assertEqual(g.request("GET", "/metrics", headers={
            "Authorization": "Bearer metrics-token-5b2d9e1f"}).status, 200)
        self.assertEqual(g.request("GET", "/healthz").status, 200)  # liveness stays open


class ExposureTest(IntegrationTest):
    """Reachable from other machines, chgate wants tokens; admin and address rules."""

    SCHEMA = {"events": COLUMNS}

    def test_no_tokens_beyond_loopback_refuses_to_start(self):
        cfg = self.config({"events": FAST}, server={"listen": "0.0.0.0:0"})
        done = subprocess.run([os.environ["CHGATE_BIN"], "--config", write(cfg)],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 2)
        self.assertIn("auth.tokens is empty", done.stderr)
        g = self.start({"events": FAST}, server={"listen": "0.0.0.0:0"},
                       auth={"allow_anonymous": True})
        self.assertEqual(g.post_events("events", rows(1)).status, 202)
        self.assertIn("ingest is open to anyone", g.log())

    def test_the_admin_api_is_closed_beyond_loopback_without_its_token(self):
        tokens = {"tokens": [{"name": "a", "token": ETL}]}
        g = self.start({"events": FAST}, server={"listen": "0.0.0.0:0"}, auth=tokens)
        r = g.request("POST", "/admin/flush")
        self.assertEqual(r.status, 403)
        self.assertIn("closed", r.json()["error"])
        g2 = self.start({"events": FAST}, server={"listen": "0.0.0.0:0"}, auth=tokens,
                        admin={"token": "admin-token-2c8e6a1f9b"})
        self.assertEqual(g2.request("POST", "/admin/flush").status, 401)
        self.assertEqual(g2.request("POST", "/admin/flush", headers={
            "Authorization": "Bearer admin-token-2c8e6a1f9b"}).status, 202)
        g3 = self.start({"events": FAST}, admin={"allow_from": ["10.0.0.0/8"]})
        r = g3.request("POST", "/admin/flush")
        self.assertEqual(r.status, 403)
        self.assertIn("admin.allow_from", r.json()["error"])

    def test_server_allow_from_closes_other_addresses(self):
        g = self.start({"events": FAST}, server={"allow_from": ["10.0.0.0/8"]})
        with socket.create_connection(("127.0.0.1", g.port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = s.recv(100)
            except ConnectionResetError:
                data = b""
        self.assertEqual(data, b"")
        wait_until(lambda: "not in server.allow_from" in g.log(), 5, message="the log line")

    def test_admin_work_runs_one_at_a_time(self):
        g = self.start({"events": {"strategy": "time", "max_batch_time": "200ms"}},
                       clickhouse={"hold_probe_interval": "2s"})
        # A dead letter, then the table away: its replay waits for ClickHouse.
        query = urllib.parse.quote("INSERT INTO events (id, nope) FORMAT JSONEachRow")
        self.assertEqual(g.request("POST", "/?query=" + query, json.dumps({"id": 1})).status, 200)
        wait_until(lambda: g.request("GET", "/admin/dead-letter").json()["tables"], 10,
                   message="a dead letter")
        self.ch.query(f"RENAME TABLE `{self.db}`.events TO `{self.db}`.away")
        results = {}
        replay = threading.Thread(target=lambda: results.setdefault(
            "replay", g.request("POST", f"/admin/dead-letter/{self.db}.events/replay", timeout=60)))
        replay.start()
        time.sleep(1)
        r = g.request("POST", "/admin/reload")
        self.assertEqual(r.status, 409, r)
        self.assertIn("still running", r.json()["error"])
        self.ch.query(f"RENAME TABLE `{self.db}`.away TO `{self.db}`.events")
        g.stop()
        replay.join(timeout=60)


def write(text):
    import tempfile
    fd, path = tempfile.mkstemp(suffix=".yaml", prefix="chgate-it-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


if __name__ == "__main__":
    unittest.main()
