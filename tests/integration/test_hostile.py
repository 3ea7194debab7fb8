"""Hostile and careless clients: each case from the hardening audit, tried for
real against a chgate process, with what it must do instead. Each test
checks that the process lives on and that other tables keep landing rows."""

import json
import os
import resource
import socket
import threading
import time
import unittest
import urllib.parse

from harness import IntegrationTest, cpu_seconds, raw_request, wait_until

COLUMNS = "id UInt32, note String"


def rows(n, note="x"):
    return [{"id": i, "note": note} for i in range(n)]


class HostileTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS, "other": COLUMNS, "en": "id UInt32, e Enum8('a' = 1)"}
    FAST = {"strategy": "hybrid", "max_batch_time": "200ms"}

    def assert_alive_and_landing(self, g, expect_other=3):
        """The process runs, and another table still lands its rows."""
        self.assertIsNone(g.proc.poll(), "chgate exited:\n" + g.log())
        self.assertEqual(g.post_events("other", rows(3, "alive")).status, 202)
        self.wait_for_count("other", expect_other, where="note = 'alive'")

    def test_a_table_name_too_long_for_the_filesystem_is_400(self):
        g = self.start({"other": self.FAST},
                       batching={"unknown_tables": "defaults", "defaults": self.FAST})
        r = g.post_events("t" * 250, rows(1))
        self.assertEqual(r.status, 400, r)
        self.assertIn("longer than 200 characters", r.json()["error"])
        # db.table over the limit through the ClickHouse-compatible endpoint too.
        query = urllib.parse.quote(f"INSERT INTO {'d' * 100}.{'t' * 120} FORMAT JSONEachRow")
        r = g.request("POST", "/?query=" + query, json.dumps({"id": 1}))
        self.assertEqual(r.status, 400, r)
        self.assert_alive_and_landing(g)

    def test_error_bodies_are_valid_json_whatever_bytes_the_client_sent(self):
        g = self.start({"t": self.FAST})
        answers = [
            raw_request(g.port, b"POST /v1/events/\xff\xfe HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"),
            raw_request(g.port, b"POST /v1/events/t HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Encoding: \xc3(\xff\r\nContent-Length: 2\r\n"
                                b"Connection: close\r\n\r\n{}"),
            raw_request(g.port, b"GET /no/\xc0\xaf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            raw_request(g.port, b"POST /v1/events/t?ack=\xed\xa0\x80 HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"),
        ]
        for raw in answers:
            head, _, body = raw.partition(b"\r\n\r\n")
            self.assertRegex(head, rb"^HTTP/1.1 4\d\d ")
            doc = json.loads(body.decode("utf-8"))  # strict: raises on invalid UTF-8
            self.assertIn("error", doc)
        # An echo is cut: a 60 KB name does not come back whole.
        r = g.post_events("x" * 60000, rows(1))
        self.assertEqual(r.status, 400)
        self.assertLess(len(r.body), 1000)

    def test_credentials_in_the_clickhouse_url_are_never_shown(self):
        url = self.ch.url.replace("http://", "http://chgate_test:chgate_test_password@")
        g = self.start({"t": self.FAST}, clickhouse={"url": url})
        self.assertEqual(g.post_events("t", rows(2)).status, 202)
        self.wait_for_count("t", 2)  # the credentials work: they went to the headers
        shown = [g.log(), g.request("GET", "/metrics").body, g.request("GET", "/readyz").body,
                 g.request("GET", "/metrics/prometheus").body]
        check = subprocess_output([os.environ["CHGATE_BIN"], "--check-config", g.config_path])
        shown.append(check)
        for text in shown:
            self.assertNotIn("chgate_test_password", text)
            self.assertNotIn("chgate_test:", text)

    def test_clickhouse_errors_quoting_a_row_cannot_forge_log_lines(self):
        g = self.start({"en": self.FAST})
        # 18.16 quotes the parsed value, with a real ESC and newline, in its error.
        r = g.post_events("en", [{"id": 1, "e": "\u001b[31mX\n2026-01-01T00:00:00.000Z ERROR FORGED"},
                                 {"id": 2, "e": "a"}])
        self.assertEqual(r.status, 202)
        wait_until(lambda: "Unknown element" in g.log(), 10, message="the refusal in the log")
        log = g.log()
        self.assertNotIn("\x1b", log)
        self.assertFalse(any(line.startswith("2026-01-01T00:00:00.000Z") for line in log.splitlines()))
        # The good row of the batch is not held back by the bad one.
        self.wait_for_count("en", 1)

    def test_out_of_file_descriptors_refuses_requests_and_does_not_spin(self):
        # probe_interval 1h: no probe connections come and go while descriptors are counted.
        g = self.start({"t": self.FAST, "other": self.FAST}, clickhouse={"probe_interval": "1h"})
        self.assertEqual(g.post_events("t", rows(1)).status, 202)
        self.wait_for_count("t", 1)
        soft, hard = resource.prlimit(g.proc.pid, resource.RLIMIT_NOFILE)

        def fds():
            return set(int(fd) for fd in os.listdir(f"/proc/{g.proc.pid}/fd"))

        # Room for one more descriptor: the next connection takes it, and a new
        # column list then cannot open its log. (The limit bounds descriptor
        # numbers: leave exactly one free number below it, once nothing changes.)
        for _ in range(50):
            used = fds()
            free = [n for n in range(max(used) + 3) if n not in used]
            resource.prlimit(g.proc.pid, resource.RLIMIT_NOFILE, (free[1], hard))
            time.sleep(0.2)
            if fds() == used:
                break
        conn = socket.create_connection(("127.0.0.1", g.port))
        query = "INSERT INTO t (id, note) FORMAT JSONEachRow"
        body = json.dumps({"id": 7, "note": "cols"}).encode()
        conn.sendall(b"POST /?query=" + query.replace(" ", "%20").encode() +
                     b" HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(body)).encode() +
                     b"\r\n\r\n" + body)
        answer = conn.recv(65536)
        self.assertRegex(answer, rb"^HTTP/1.1 503 ")
        self.assertIn(b"Retry-After", answer)
        self.assertIn(b"Too many open files", answer)
        # More clients than descriptors: accept fails, and must back off.
        extra = [socket.create_connection(("127.0.0.1", g.port)) for _ in range(20)]
        lines_before = len(g.log().splitlines())
        cpu_before = cpu_seconds(g.proc.pid)
        time.sleep(3)
        busy = (cpu_seconds(g.proc.pid) - cpu_before) / 3
        self.assertLess(busy, 0.3, f"chgate used {busy:.0%} of a core while accepts failed")
        self.assertLess(len(g.log().splitlines()) - lines_before, 60, "the log grew unbounded")
        self.assertIn("accept failed", g.log())
        for s in extra + [conn]:
            s.close()
        resource.prlimit(g.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
        # Descriptors are back: the same request now works, and nothing died.
        r = g.request("POST", "/?query=" + query.replace(" ", "%20"), body)
        self.assertEqual(r.status, 200, r)
        self.assert_alive_and_landing(g)
        self.wait_for_count("t", 2)


class IsolationTest(IntegrationTest):
    """One client's bad data never holds, slows or shows up for another."""

    SCHEMA = {"events": "id UInt32, note String, n UInt32",
              "t": COLUMNS}
    FAST = {"strategy": "hybrid", "max_batch_time": "200ms"}

    def dead_letters(self, g):
        return g.request("GET", "/admin/dead-letter").json()["tables"]

    def test_a_column_list_naming_a_missing_column_never_holds_the_table(self):
        storage = self.storage_dir()
        g = self.start({"events": self.FAST}, storage_dir=storage)
        query = urllib.parse.quote("INSERT INTO events (nope) FORMAT JSONEachRow")
        r = g.request("POST", "/?query=" + query, json.dumps({"nope": 1}))
        self.assertEqual(r.status, 200)
        key = f"{self.db}.events"
        wait_until(lambda: self.dead_letters(g).get(key, {}).get("rows") == 1, 10,
                   message="the row in the dead letters")
        # Legitimate traffic lands, readiness stays green, nothing is held.
        for i in range(20):
            self.assertEqual(g.post_events("events", [{"id": i, "note": "ok", "n": i}]).status, 202)
        self.wait_for_count("events", 20)
        m = g.metrics()["tables"]["events"]
        self.assertFalse(m["held"])
        self.assertEqual(m["holds"], 0)
        self.assertEqual(g.request("GET", "/readyz").status, 200)
        # The refused rows are not in the log either: a restart brings back no hold.
        self.assertEqual(g.stop(), 0)
        g2 = self.start({"events": self.FAST}, storage_dir=storage)
        self.assertEqual(g2.post_events("events", [{"id": 99, "note": "after", "n": 1}]).status, 202)
        self.wait_for_count("events", 21)
        time.sleep(0.5)
        self.assertEqual(g2.metrics()["tables"]["events"]["holds"], 0)
        self.assertEqual(g2.request("GET", "/readyz").status, 200)

    def test_a_held_buffer_goes_to_the_dead_letters_after_hold_max(self):
        g = self.start({"t": self.FAST},
                       clickhouse={"hold_probe_interval": "300ms", "hold_max": "2s"})
        self.ch.query(f"RENAME TABLE `{self.db}`.t TO `{self.db}`.t_away")
        self.assertEqual(g.post_events("t", rows(5, "held")).status, 202)
        wait_until(lambda: g.metrics()["tables"]["t"]["held"], 10, message="the hold")
        key = f"{self.db}.t"
        wait_until(lambda: self.dead_letters(g).get(key, {}).get("rows") == 5, 10,
                   message="the held rows in the dead letters")
        # Nothing is kept in memory past hold_max.
        wait_until(lambda: (lambda m: m["rows_dead_lettered"] == 5 and m["memory_bytes"] == 0)(
            g.metrics()["tables"]["t"]), 5, message="the counters")
        self.assertIn("hold_max", g.log())
        # Back in place: a new batch releases the hold.
        self.ch.query(f"RENAME TABLE `{self.db}`.t_away TO `{self.db}`.t")
        self.assertEqual(g.post_events("t", rows(2, "back")).status, 202)
        self.wait_for_count("t", 2, where="note = 'back'")
        wait_until(lambda: not g.metrics()["tables"]["t"]["held"], 10, message="the release")

    def test_a_mostly_bad_batch_costs_a_bounded_number_of_inserts_and_parts(self):
        # One request: 200 rows, every other one bad (a string where a number goes).
        g = self.start({"t": {"strategy": "size", "max_batch_size": 200},
                        "events": {"strategy": "size", "max_batch_size": 200}})
        bad = [{"id": i, "note": "x", "n": i} if i % 2 == 0 else {"id": i, "note": "x", "n": "bad"}
               for i in range(200)]
        self.assertEqual(g.post_events("events", bad).status, 202)
        key = f"{self.db}.events"
        wait_until(lambda: self.dead_letters(g).get(key, {}).get("rows", 0) + self.count("events")
                   == 200, 20, message="every row settled")
        inserts = self.ch.insert_queries(self.db, "events")
        parts = int(self.ch.query(
            f"SELECT count() FROM system.parts WHERE database = '{self.db}' AND table = 'events'"))
        self.assertLessEqual(inserts, 33)  # the batch, then at most 32 more
        self.assertLessEqual(parts, 1)
        # A batch with a few bad rows: every good row in one part.
        few = [{"id": i, "note": "y", "n": i} if i not in (5, 50, 150) else
               {"id": i, "note": "y", "n": "bad"} for i in range(200)]
        self.assertEqual(g.post_events("events", few).status, 202)
        self.wait_for_count("events", 197, where="note = 'y'")
        parts_after = int(self.ch.query(
            f"SELECT count() FROM system.parts WHERE database = '{self.db}' AND table = 'events'"))
        self.assertEqual(parts_after - parts, 1)

    def test_committed_requests_hear_of_their_own_rows_only(self):
        g = self.start({"events": {"strategy": "time", "max_batch_time": "1s", "ack": "committed"}})
        results = {}

        def post(name, events):
            results[name] = g.post_events("events", events)

        good = threading.Thread(target=post, args=("good", [{"id": 1, "note": "mine", "n": 1}]))
        bad = threading.Thread(target=post, args=(
            "bad", [{"id": 2, "note": "theirs", "n": "SECRET-OF-B"}, {"id": 3, "note": "b", "n": 3}]))
        good.start(); bad.start(); good.join(); bad.join()
        self.assertEqual(results["good"].status, 200, results["good"])
        self.assertEqual(results["bad"].status, 502, results["bad"])
        self.assertNotIn("mine", results["bad"].body)
        self.assertIn("row 0 of the request", results["bad"].json()["error"])
        # The message of an INSERT that held both requests' rows is not quoted.
        self.assertNotIn("SECRET-OF-B", results["good"].body)
        self.wait_for_count("events", 2)
        m = g.metrics()["tables"]["events"]
        self.assertEqual(m["rows_dead_lettered"], 1)

    def test_a_table_served_by_default_that_does_not_exist_is_refused_not_held(self):
        g = self.start({"t": self.FAST}, batching={"unknown_tables": "defaults",
                                                   "defaults": self.FAST},
                       clickhouse={"hold_probe_interval": "5s"})
        self.assertEqual(g.post_events("nosuch", rows(3)).status, 202)
        key = f"{self.db}.nosuch"
        wait_until(lambda: self.dead_letters(g).get(key, {}).get("rows") == 3, 10,
                   message="the rows in the dead letters")
        r = g.post_events("nosuch", rows(1))
        self.assertEqual(r.status, 404, r)
        self.assertIn("does not exist in ClickHouse", r.json()["error"])
        m = g.metrics()
        self.assertFalse(m["tables"]["nosuch"]["held"])
        self.assertEqual(m["tables"]["nosuch"]["memory_bytes"], 0)
        self.assertEqual(g.request("GET", "/readyz").status, 200)
        self.assertEqual(g.post_events("t", rows(2)).status, 202)
        self.wait_for_count("t", 2)


def subprocess_output(args):
    import subprocess
    done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return done.stdout + done.stderr


if __name__ == "__main__":
    unittest.main()
