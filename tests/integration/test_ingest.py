"""Events in every accepted shape land in ClickHouse with the right values, and
bad requests get the documented errors and change nothing."""

import gzip
import json
import socket
import subprocess
import threading
import time
import unittest

import harness
from harness import IntegrationTest, wait_until

EVENTS = ("event_id String, user_id UInt64, event_type String, event_timestamp DateTime, "
          "revenue Float64, tags Array(String), note String")

# Flushed often, so each test sees its rows quickly.
FAST = {"strategy": "hybrid", "max_batch_size": 1000, "max_batch_time": "200ms"}


def event(i, **extra):
    e = {"event_id": f"e{i}", "user_id": 1000 + i, "event_type": "page_view",
         "event_timestamp": "2026-11-21T10:30:15Z", "revenue": i * 0.5, "tags": ["a", "b"]}
    e.update(extra)
    return e


class IngestTest(IntegrationTest):
    SCHEMA = {"events": EVENTS, "other": EVENTS, "shared": EVENTS}

    def setUp(self):
        super().setUp()
        self.gate = self.start({"events": FAST, "other": FAST})

    def rows(self, where):
        return self.ch.rows(f"SELECT * FROM `{self.db}`.events WHERE {where} ORDER BY event_id")

    def test_each_shape_lands_with_its_values(self):
        g = self.gate
        self.assertEqual(g.post_events("events", event(1, note="object")).json(), {"accepted": 1})
        r = g.post_events("events", [event(2, note="array"), event(3, note="array")])
        self.assertEqual((r.status, r.json()), (202, {"accepted": 2}))
        ndjson = "\n".join(json.dumps(event(i, note="ndjson")) for i in (4, 5, 6)) + "\n"
        r = g.post_events("events", ndjson, {"Content-Type": "application/x-ndjson"})
        self.assertEqual(r.json(), {"accepted": 3})
        r = g.post_events("events", "\n".join(json.dumps(event(i, note="detected")) for i in (7, 8)))
        self.assertEqual(r.json(), {"accepted": 2})
        r = g.post_gzip("events", json.dumps([event(9, note="gzip"), event(10, note="gzip")]))
        self.assertEqual(r.json(), {"accepted": 2})
        # A pretty-printed event spans lines; it must still be one row.
        r = g.post_events("events", json.dumps([event(11, note="pretty")], indent=2))
        self.assertEqual(r.json(), {"accepted": 1})
        self.wait_for_count("events", 11)

        got = {row["event_id"]: row for row in self.rows("1")}
        self.assertEqual(got["e1"]["note"], "object")
        self.assertEqual({got[f"e{i}"]["note"] for i in (2, 3)}, {"array"})
        self.assertEqual({got[f"e{i}"]["note"] for i in (4, 5, 6)}, {"ndjson"})
        self.assertEqual({got[f"e{i}"]["note"] for i in (9, 10)}, {"gzip"})
        self.assertEqual(got["e11"]["note"], "pretty")
        e3 = got["e3"]
        self.assertEqual(e3["user_id"], "1003")  # ClickHouse prints UInt64 quoted
        self.assertEqual(e3["revenue"], 1.5)
        self.assertEqual(e3["tags"], ["a", "b"])
        self.assertEqual(e3["event_timestamp"][:10], "2026-11-21")

    def test_zstd_request_bodies(self):
        # The standard library has no zstd; the zstd command line tool does it.
        body = json.dumps([event(50, note="zstd"), event(51, note="zstd")]).encode()
        packed = subprocess.run(["zstd", "-q", "-c"], input=body, capture_output=True,
                                check=True).stdout
        r = self.gate.post_events("events", packed, {"Content-Encoding": "zstd"})
        self.assertEqual(r.json(), {"accepted": 2})
        self.wait_for_count("events", 2, where="note = 'zstd'")

    def test_clickhouse_compatible_endpoint(self):
        g = self.gate
        q = "INSERT INTO events FORMAT JSONEachRow"
        r = g.request("POST", "/?query=" + q.replace(" ", "%20"),
                      "\n".join(json.dumps(event(i, note="compat-url")) for i in (20, 21)))
        self.assertEqual((r.status, r.body), (200, ""))
        # clickhouse-bulk style: the statement is the body's first line.
        body = "insert  into\tevents format JSONEachRow\n" + json.dumps(event(22, note="compat-body"))
        self.assertEqual(g.request("POST", "/", body).status, 200)
        # A column list: only those columns are written; the rest get defaults.
        q = f"INSERT INTO {self.db}.events (event_id, note) FORMAT JSONEachRow"
        r = g.request("POST", "/?query=" + q.replace(" ", "+"),
                      json.dumps({"event_id": "e23", "note": "compat-cols"}))
        self.assertEqual(r.status, 200)
        # gzip bodies, as ClickHouse clients send them.
        r = g.request("POST", "/?query=INSERT+INTO+events+FORMAT+JSONEachRow",
                      gzip.compress(json.dumps(event(24, note="compat-gzip")).encode()),
                      {"Content-Encoding": "gzip"})
        self.assertEqual(r.status, 200)
        self.wait_for_count("events", 5, where="note LIKE 'compat%'")
        cols = self.rows("event_id = 'e23'")[0]
        self.assertEqual((cols["note"], cols["user_id"]), ("compat-cols", "0"))

    def test_rows_with_the_same_table_and_columns_share_a_batch(self):
        g = self.start({"shared": {"strategy": "hybrid", "max_batch_size": 1000,
                                   "max_batch_time": "1500ms"}})
        for q in ("INSERT INTO shared (note, event_id) FORMAT JSONEachRow",
                  "insert into shared(event_id,note) format JSONEachRow",
                  f"INSERT INTO `{self.db}`.`shared` ( `event_id` , `note` ) FORMAT JSONEachRow"):
            r = g.request("POST", "/", q + "\n" + json.dumps({"event_id": "s", "note": "shared"}))
            self.assertEqual(r.status, 200, r)
        self.wait_for_count("shared", 3)
        self.assertEqual(self.ch.insert_queries(self.db, "shared"), 1)

    def test_bad_requests_get_documented_errors_and_change_nothing(self):
        g = self.gate
        cases = [
            # (request, expected status, text in the error)
            (lambda: g.post_events("events", [event(90), {"x": 1}, 7]), 400, "event 2 is not a JSON object"),
            (lambda: g.post_events("events", '{"event_id":"e91",'), 400, "not valid JSON"),
            (lambda: g.post_events("events", ""), 400, "no events"),
            (lambda: g.post_events("no_such_table", event(92)), 404, "not configured"),
            (lambda: g.post_events("bad-name", event(93)), 400, "not a table name"),
            (lambda: g.post_events("a.b.c", event(93)), 400, "not a table name"),
            (lambda: g.post_events("events", b"xx", {"Content-Encoding": "br"}), 415, "not supported"),
            (lambda: g.post_events("events", b"not gzip", {"Content-Encoding": "gzip"}), 400, "not valid gzip"),
            (lambda: g.request("GET", "/v1/events/events"), 405, "method not allowed"),
            (lambda: g.request("POST", "/nope", "{}"), 404, "no such path"),
            (lambda: g.request("POST", "/?query=SELECT+1", ""), 400, "not a SQL proxy"),
            (lambda: g.request("GET", "/?query=SELECT+1"), 400, "not a SQL proxy"),
            (lambda: g.request("POST", "/?query=DROP+TABLE+events", ""), 400, "not a SQL proxy"),
            (lambda: g.request("POST", "/?query=INSERT+INTO+events+FORMAT+CSV", "a,b"), 400, "CSV"),
        ]
        for send, status, text in cases:
            r = send()
            self.assertEqual(r.status, status, r)
            self.assertIn("application/json", r.headers.get("Content-Type", ""), r)
            self.assertIn(text, r.json()["error"], r)
        r = g.post_events("events", [event(90), "x"])
        # '[' + the first event + ', ' puts the second at this offset.
        self.assertEqual((r.json()["index"], r.json()["offset"]), (1, 1 + len(json.dumps(event(90))) + 2))
        self.assertEqual(g.request("GET", "/v1/events/events").headers.get("Allow"), "POST")
        # Give the buffers time to flush anything that slipped in: nothing did.
        g.post_events("other", event(99))
        self.wait_for_count("other", 1)
        self.assertEqual(self.count("events", "event_id IN ('e90','e91','e92','e93')"), 0)

    def test_body_limit_413(self):
        g = self.start({"events": FAST, "other": FAST}, server={"max_body_size": "4KiB"})
        big = json.dumps([event(i, note="x" * 100) for i in range(100)])
        r = g.post_events("events", big)
        self.assertEqual(r.status, 413, r)
        self.assertIn("max_body_size", r.json()["error"])
        bomb = gzip.compress(b"[" + b" " * 100_000 + b"]")
        r = g.post_events("events", bomb, {"Content-Encoding": "gzip"})
        self.assertEqual(r.status, 413, r)
        self.assertEqual(g.post_events("events", event(95, note="after")).status, 202)
        self.wait_for_count("events", 1, where="event_id = 'e95'")

    def test_expect_100_continue_and_keep_alive(self):
        # curl sends "Expect: 100-continue" before bodies over 1 KiB and waits.
        body = json.dumps([event(i, note="expect") for i in range(60, 70)]).encode()
        with socket.create_connection(("127.0.0.1", self.gate.port), timeout=10) as s:
            s.sendall(b"POST /v1/events/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
            interim = s.recv(1024)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue"), interim)
            s.sendall(body)
            first = recv_response(s)
            self.assertIn(b"202 Accepted", first)
            self.assertIn(b'{"accepted":10}', first)
            # The same connection serves the next request.
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", recv_response(s))
        self.wait_for_count("events", 10, where="note = 'expect'")

    def test_pipelined_split_idle_and_busy_connections(self):
        g = self.start({"events": FAST, "other": FAST}, server={"idle_timeout": "1s"})

        def post(i):
            body = json.dumps(event(i, note="conn")).encode()
            return (b"POST /v1/events/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

        # Two requests in one write: both answered, in order.
        with socket.create_connection(("127.0.0.1", g.port), timeout=10) as s:
            s.sendall(post(200) + post(201))
            f = s.makefile("rb")
            for _ in range(2):
                self.assertIn(b"202 Accepted", read_response(f))
        # A body that trickles in over several reads, longer than the idle
        # timeout in all: the request timeout applies, not the idle one.
        with socket.create_connection(("127.0.0.1", g.port), timeout=10) as s:
            req = post(202)
            for k in range(0, len(req), len(req) // 5 + 1):
                s.sendall(req[k:k + len(req) // 5 + 1])
                time.sleep(0.4)
            self.assertIn(b"202 Accepted", read_response(s.makefile("rb")))
        # A busy connection outlives the idle timeout; an idle one does not.
        busy = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        idle = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        with busy, idle:
            f = busy.makefile("rb")
            for i in range(203, 208):
                busy.sendall(post(i))
                self.assertIn(b"202 Accepted", read_response(f))
                time.sleep(0.5)
            self.assertEqual(idle.recv(100), b"", "the idle connection was not closed")
        self.wait_for_count("events", 8, where="note = 'conn'")

    def test_answers_keep_their_order_while_durable_acks_are_written_by_the_log_writer(self):
        # Durable acks are written to the socket by the log's writer thread
        # while the session reads on; whatever comes next waits its turn.
        g = self.start({"events": dict(FAST, ack="durable"), "other": dict(FAST, ack="buffered")})

        def post(table, body):
            return (b"POST /v1/events/" + table + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
                    + b"\r\n\r\n" + body)

        def ev(i):
            return json.dumps(event(i, note="order")).encode()

        for _ in range(20):
            with socket.create_connection(("127.0.0.1", g.port), timeout=10) as s:
                s.sendall(post(b"events", ev(300)) + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                          + post(b"events", ev(301)) + post(b"other", ev(302))
                          + post(b"events", b"{not json") + post(b"events", ev(303)))
                f = s.makefile("rb")
                answers = [read_response(f) for _ in range(6)]
            statuses = [a.split(b" ", 2)[1] for a in answers]
            self.assertEqual(statuses, [b"202", b"200", b"202", b"202", b"400", b"202"], answers)
        # A client that sends its request and shuts its side gets the answer, then EOF.
        with socket.create_connection(("127.0.0.1", g.port), timeout=10) as s:
            s.sendall(post(b"events", ev(304)))
            s.shutdown(socket.SHUT_WR)
            f = s.makefile("rb")
            self.assertIn(b"202 Accepted", read_response(f))
            self.assertEqual(f.read(), b"")
        self.wait_for_count("events", 61, where="note = 'order'")
        self.wait_for_count("other", 20, where="note = 'order'")

    def test_a_client_slow_to_read_gets_every_durable_answer(self):
        # The client reads nothing for a while: the log writer's sends fill the
        # socket, the io thread writes the rest once the client reads again.
        # 40,000 answers of ~107 bytes outgrow the 4 MiB a socket's send buffer
        # grows to by default. fsync never: the requests go one at a time (each
        # waits for the answer before it), so each should wait for a write only.
        g = self.start({"events": dict(FAST, ack="durable"), "other": FAST},
                       storage={"fsync": "never"})
        body = json.dumps(event(400, note="slow reader")).encode()
        req = (b"POST /v1/events/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        n = 40000
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect(("127.0.0.1", g.port))
        with s:
            writer = threading.Thread(target=lambda: s.sendall(req * n))
            writer.start()
            time.sleep(4)
            f = s.makefile("rb")
            statuses = [read_response(f).split(b" ", 2)[1] for _ in range(n)]
            writer.join()
        self.assertEqual(statuses, [b"202"] * n)
        self.wait_for_count("events", n, where="note = 'slow reader'")

    def test_an_idempotency_key_repeat_inserts_nothing(self):
        g = self.gate
        body = json.dumps([event(70, note="idem"), event(71, note="idem")])
        first = g.post_events("events", body, {"Idempotency-Key": "order-70"})
        again = g.post_events("events", body, {"Idempotency-Key": "order-70"})
        self.assertEqual((first.status, again.status), (202, 202))
        self.assertNotIn("Idempotent-Replayed", first.headers)
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(again.body, first.body)
        self.wait_for_count("events", 2, where="note = 'idem'")
        time.sleep(0.5)
        self.assertEqual(self.count("events", "note = 'idem'"), 2)

    def test_prometheus_text_beside_the_json(self):
        self.assertEqual(self.gate.post_events("events", [event(i, note="prom") for i in range(3)]).status, 202)
        self.wait_for_count("events", 3, where="note = 'prom'")
        r = self.gate.request("GET", "/metrics/prometheus")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers)
        self.assertIn('# TYPE chgate_rows_accepted_total counter', r.body)
        self.assertIn('chgate_rows_accepted_total{table="events"} 3', r.body)
        self.assertIn("chgate_clickhouse_reachable 1", r.body)
        # /metrics: JSON for curl, text for Prometheus' Accept header.
        self.assertEqual(self.gate.request("GET", "/metrics").json()["tables"]["events"]["rows_accepted"], 3)
        scrape = self.gate.request("GET", "/metrics", headers={
            "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"})
        self.assertIn('chgate_rows_inserted_total{table="events"} 3', scrape.body)
        self.assertEqual(self.gate.request("POST", "/metrics/prometheus", body="x").status, 405)

    def test_health_ready_and_ping(self):
        self.assertEqual(self.gate.request("GET", "/healthz").json(), {"status": "ok"})
        ready = self.gate.request("GET", "/readyz")
        self.assertEqual(ready.status, 200)
        self.assertEqual(ready.json()["clickhouse"]["version"].split(".")[0], "18")
        self.assertEqual(self.gate.request("GET", "/ping").body, "Ok.\n")
        self.assertEqual(self.gate.request("GET", "/").body, "Ok.\n")


def read_response(f):
    """One response from a buffered reader, leaving what follows it unread."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = f.readline()
        if not line:
            raise AssertionError(f"connection closed after {head!r}")
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + f.read(length)


def recv_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        rest += sock.recv(4096)
    return head + b"\r\n\r\n" + rest


if __name__ == "__main__":
    unittest.main()
