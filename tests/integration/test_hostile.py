"""Hostile and careless clients: each case from the hardening audit, tried for
real against a chgate process, with what it must do instead. Each test
checks that the process lives on and that other tables keep landing rows."""

import json
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from harness import (SANITIZED, Chgate, IntegrationTest, cpu_seconds, raw_request, rss_kib,
                     wait_until)

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
        # An echo is cut: a 10 KB name does not come back whole.
        r = g.post_events("x" * 10000, rows(1))
        self.assertEqual(r.status, 400)
        self.assertLess(len(r.body), 1000)
        # Headers past server.max_header_size (16 KiB): 431, and a clean close.
        r = g.post_events("x" * 60000, rows(1))
        self.assertEqual(r.status, 431)

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
        g = self.start({"en": dict(self.FAST, schema="off")})
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
        # UBSan checks a vptr by writing the object to a pipe to see that it can be
        # read; with no descriptor left that fails, and it reports every virtual call
        # (e.what() in a catch) as a bad object. Nothing is wrong: keep those quiet.
        supp = os.path.join(self.storage_dir(), "ubsan.supp")
        with open(supp, "w") as f:
            f.write("vptr:*\n")
        env = {"UBSAN_OPTIONS": f"suppressions={supp}:" + os.environ.get("UBSAN_OPTIONS", "")}
        g = self.start({"t": self.FAST, "other": self.FAST}, clickhouse={"probe_interval": "1h"},
                       env=env)
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
        g = self.start({"events": dict(self.FAST, schema="off")}, storage_dir=storage)
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
        g = self.start({"t": {"strategy": "size", "max_batch_size": 200, "schema": "off"},
                        "events": {"strategy": "size", "max_batch_size": 200, "schema": "off"}})
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
        g = self.start({"events": {"strategy": "time", "max_batch_time": "1s", "ack": "committed",
                                   "schema": "off"}})
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

    def test_an_idempotency_key_is_per_table_on_the_compatible_endpoint(self):
        g = self.start({"events": self.FAST, "t": self.FAST})
        for table, row in (("events", {"id": 1, "note": "e", "n": 1}), ("t", {"id": 2, "note": "t"})):
            query = urllib.parse.quote(f"INSERT INTO {table} FORMAT JSONEachRow")
            r = g.request("POST", "/?query=" + query, json.dumps(row),
                          headers={"Idempotency-Key": "same-key"})
            self.assertEqual(r.status, 200)
            self.assertNotIn("Idempotent-Replayed", r.headers)
        self.wait_for_count("events", 1)
        self.wait_for_count("t", 1)

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


class QuotaTest(IntegrationTest):
    """Everything that grows is bounded by a quota, and says so."""

    SCHEMA = {"t": COLUMNS + "".join(f", c{i} String" for i in range(41)), "other": COLUMNS}
    FAST = {"strategy": "hybrid", "max_batch_time": "200ms"}

    def wal_dirs(self, storage):
        return os.listdir(os.path.join(storage, "wal"))

    def files_open_under(self, g, directory):
        fds = f"/proc/{g.proc.pid}/fd"
        count = 0
        for fd in os.listdir(fds):
            try:  # a descriptor (a connection) may close between the two calls
                count += os.readlink(os.path.join(fds, fd)).startswith(directory)
            except FileNotFoundError:
                pass
        return count

    def test_column_lists_are_capped_and_idle_ones_closed_with_their_logs(self):
        storage = self.storage_dir()
        g = self.start({"t": self.FAST, "other": self.FAST}, storage_dir=storage,
                       batching={"max_buffers_per_table": 16, "idle_buffer_ttl": "2s"},
                       storage={"max_disk": "64MiB"})
        statuses = []
        for i in range(40):
            query = urllib.parse.quote(f"INSERT INTO t (id, note, c{i}) FORMAT JSONEachRow")
            statuses.append(g.request("POST", "/?query=" + query,
                                      json.dumps({"id": i, "note": "cols"})).status)
        self.assertEqual(statuses[:16], [200] * 16)
        self.assertEqual(set(statuses[16:]), {400})
        r = g.request("POST", "/?query=" + urllib.parse.quote(
            "INSERT INTO t (id, note, c40) FORMAT JSONEachRow"), json.dumps({"id": 1}))
        self.assertIn("max_buffers_per_table", r.json()["error"])
        # Each column list has a log: at most 16 of them, and the disk they
        # take (their preallocated space too) is counted.
        self.assertLessEqual(len(self.wal_dirs(storage)), 16 + 2)
        self.assertLessEqual(self.files_open_under(g, storage), 16 + 2 + 1)  # + LOCK
        disk = g.metrics()["storage"]["disk_bytes"]
        self.assertGreaterEqual(disk, 16 * (1 << 20))  # 1 MiB preallocated each
        # The rows of the column lists land; once idle, their buffers close and
        # their logs go (the table's own buffer stays).
        self.wait_for_count("t", 16)
        wait_until(lambda: len(self.wal_dirs(storage)) <= 2, 15, message="idle logs removed")
        wait_until(lambda: self.files_open_under(g, storage) <= 3, 5,
                   message="their files closed")
        self.assertLess(g.metrics()["storage"]["disk_bytes"], disk / 4)
        # A closed column list comes back on demand. (While its log is being
        # removed, a request for it gets 503 with Retry-After: try again.)
        query = urllib.parse.quote("INSERT INTO t (id, note, c0) FORMAT JSONEachRow")
        for _ in range(50):
            r = g.request("POST", "/?query=" + query, json.dumps({"id": 99, "note": "again"}))
            if r.status != 503:
                break
            self.assertIn("Retry-After", r.headers)
            time.sleep(0.1)
        self.assertEqual(r.status, 200, r)
        self.wait_for_count("t", 1, where="note = 'again'")

    def test_tables_served_by_default_give_their_slot_back_when_idle(self):
        for name in ("a", "b", "c"):
            self.ch.query(f"CREATE TABLE `{self.db}`.`{name}` ({COLUMNS}) ENGINE = MergeTree() ORDER BY tuple()")
        g = self.start({}, batching={"unknown_tables": "defaults", "max_tables": 2,
                                     "idle_buffer_ttl": "2s", "defaults": self.FAST})
        self.assertEqual(g.post_events("a", rows(1)).status, 202)
        self.assertEqual(g.post_events("b", rows(1)).status, 202)
        r = g.post_events("c", rows(1))
        self.assertEqual(r.status, 503)
        self.assertIn("max_tables", r.json()["error"])
        self.wait_for_count("a", 1)
        self.wait_for_count("b", 1)
        wait_until(lambda: g.post_events("c", rows(1)).status == 202, 15,
                   message="a slot freed by an idle table")
        self.wait_for_count("c", 1)

    def test_dead_letters_stay_under_max_disk(self):
        g = self.start({"t": {"strategy": "size", "max_batch_size": 50, "max_memory": "4MiB",
                              "schema": "off"}},
                       storage={"max_disk": "3MiB", "preallocate": 0})
        bad = [{"id": "not a number", "note": "x" * 200} for _ in range(50)]
        statuses = set()
        for _ in range(400):  # 400 batches of 50 bad rows: ~5 MB of dead letters wanted
            statuses.add(g.post_events("t", bad).status)
            if 429 in statuses:
                break
        wait_until(lambda: "storage.max_disk is in use" in g.log(), 30,
                   message="dead letters refused for room")
        m = g.metrics()["storage"]
        self.assertLessEqual(m["disk_bytes"], 3 << 20)
        self.assertLessEqual(m["dead_letters"]["bytes"], 3 << 20)
        self.assertEqual(g.metrics()["tables"]["t"]["rows_dropped"], 0)  # kept, in memory
        self.assertIsNone(g.proc.poll())

    def test_idle_connections_that_sent_large_bodies_hold_little(self):
        if SANITIZED:
            self.skipTest("RSS means nothing under the sanitizers")
        g = self.start({"t": self.FAST})
        body = b"[" + b" " * ((1 << 20) - 2) + b"x"  # read whole, then refused (400)
        head = (b"POST /v1/events/t HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                str(len(body)).encode() + b"\r\n\r\n")
        warm = socket.create_connection(("127.0.0.1", g.port))
        warm.sendall(head + body)
        warm.recv(4096)
        time.sleep(0.5)
        before = rss_kib(g.proc.pid)
        conns = []
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", g.port))
            s.sendall(head + body)
            self.assertIn(b" 400 ", s.recv(4096))
            conns.append(s)
        time.sleep(1)
        grown = rss_kib(g.proc.pid) - before
        for s in conns + [warm]:
            s.close()
        # 300 connections that each sent 1 MiB, now idle: a few KiB each.
        self.assertLess(grown, 300 * 16, f"RSS grew {grown} KiB")

    def test_a_slow_client_cannot_hold_a_connection_open(self):
        g = self.start({"t": self.FAST}, server={"header_timeout": "1s", "body_timeout": "1s"})
        # Headers one byte at a time, slower than header_timeout allows.
        s = socket.create_connection(("127.0.0.1", g.port))
        started = time.monotonic()
        closed = False
        for byte in b"POST /v1/events/t HTTP/1.1\r\nHost: x\r\n":
            try:
                s.sendall(bytes([byte]))
                time.sleep(0.2)
            except OSError:
                closed = True
                break
        if not closed:
            s.settimeout(5)
            try:
                closed = s.recv(100) == b""
            except OSError:
                closed = True
        self.assertTrue(closed)
        self.assertLess(time.monotonic() - started, 4)
        s.close()
        # A body that stalls: closed within body_timeout.
        s = socket.create_connection(("127.0.0.1", g.port))
        s.sendall(b"POST /v1/events/t HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        s.settimeout(5)
        started = time.monotonic()
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        self.assertLess(time.monotonic() - started, 3)
        self.assertNotIn(b"202", data)
        s.close()
        self.assertEqual(g.post_events("t", rows(1)).status, 202)

    def test_100_continue_only_after_the_request_is_admitted(self):
        g = self.start({"t": self.FAST})
        head = (b"POST /v1/events/%s HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                b"Content-Length: 1000000\r\n\r\n")
        with socket.create_connection(("127.0.0.1", g.port), timeout=5) as s:
            s.sendall(head % b"nosuch")
            answer = s.recv(4096)
            self.assertRegex(answer, rb"^HTTP/1.1 404 ")
            self.assertIn(b"Connection: close", answer)
        with socket.create_connection(("127.0.0.1", g.port), timeout=5) as s:
            s.sendall(head % b"bad-name")
            self.assertRegex(s.recv(4096), rb"^HTTP/1.1 400 ")
        with socket.create_connection(("127.0.0.1", g.port), timeout=5) as s:
            s.sendall(head % b"t")
            self.assertRegex(s.recv(4096), rb"^HTTP/1.1 100 Continue")

    def test_connections_past_the_limits_get_503_and_are_closed(self):
        g = self.start({"t": self.FAST}, server={"max_connections_per_ip": 5, "max_connections": 8})
        held = [socket.create_connection(("127.0.0.1", g.port)) for _ in range(5)]
        time.sleep(0.3)
        answer = raw_request(g.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        self.assertRegex(answer, rb"^HTTP/1.1 503 ")
        self.assertIn(b"Retry-After: 1", answer)
        self.assertIn(b"too many connections", answer)
        for s in held[:2]:
            s.close()
        wait_until(lambda: g.request("GET", "/healthz").status == 200, 5, message="room again")
        self.assertGreater(g.metrics()["server"]["connections_refused"], 0)
        for s in held[2:]:
            s.close()

    def test_bodies_in_flight_count_against_max_inflight_bytes(self):
        mib = 1 << 20
        g = self.start({"t": self.FAST}, server={"max_body_size": "1MiB",
                                                  "max_inflight_bytes": "2MiB"})
        rss_before = rss_kib(g.proc.pid)

        def half_sent(n):
            """n connections, each half way through a 1 MiB body."""
            conns = []
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", g.port))
                s.sendall(b"POST /v1/events/t HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          str(mib).encode() + b"\r\n\r\n[" + b" " * (mib // 2))
                conns.append(s)
            return conns

        partial = half_sent(2)
        time.sleep(0.3)
        # Two half-sent 1 MiB bodies hold the 2 MiB: the third is refused on its headers.
        answer = raw_request(g.port, b"POST /v1/events/t HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                             str(mib).encode() + b"\r\n\r\n", timeout=5)
        self.assertRegex(answer, rb"^HTTP/1.1 503 ")
        self.assertIn(b"max_inflight_bytes", answer)
        self.assertIn(b"Retry-After", answer)
        # 50 more clients sending partial 1 MiB bodies add nothing much.
        more = half_sent(50)
        time.sleep(0.5)
        if not SANITIZED:
            self.assertLess(rss_kib(g.proc.pid) - rss_before, 16 * 1024)
        for s in partial + more:
            s.close()
        wait_until(lambda: g.post_events("t", rows(1)).status == 202, 5, message="room again")


SLOW_SYNC_C = r"""
/* fdatasync that waits while the file named by $CHGATE_TEST_SLOW_SYNC exists:
   a disk that hangs, for as long as the test wants. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>
int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    const char* flag = getenv("CHGATE_TEST_SLOW_SYNC");
    while (flag && access(flag, F_OK) == 0) usleep(10000);
    return real(fd);
}
"""


class HangingDiskTest(IntegrationTest):
    """A durable answer waits for its log's sync; a disk that hangs must not
    keep the connection waiting for ever."""

    SCHEMA = {"t": COLUMNS}

    def test_an_owed_durable_answer_comes_within_commit_timeout(self):
        work = tempfile.mkdtemp(prefix="chgate-it-slowsync-")
        self.addCleanup(shutil.rmtree, work, True)
        source, library = os.path.join(work, "slowsync.c"), os.path.join(work, "slowsync.so")
        with open(source, "w") as f:
            f.write(SLOW_SYNC_C)
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", library, source, "-ldl"], check=True)
        flag = os.path.join(work, "hang")
        env = {"LD_PRELOAD": library, "CHGATE_TEST_SLOW_SYNC": flag,
               # The sanitizers' runtime wants to come first; this one is harmless.
               "ASAN_OPTIONS": "verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", "")}
        g = Chgate(self.config({"t": {"strategy": "hybrid", "max_batch_time": "200ms"}},
                               self.storage_dir(), server={"commit_timeout": "1s"}), env=env)
        self.addCleanup(g.__exit__)
        self.assertEqual(g.post_events("t", rows(1, "before")).status, 202)
        open(flag, "w").close()  # the disk hangs from now on
        time.sleep(0.3)
        started = time.monotonic()
        r = g.post_events("t", rows(1, "during"), timeout=15)
        took = time.monotonic() - started
        self.assertEqual(r.status, 504, r)
        self.assertIn("may or may not be stored", r.json()["error"])
        self.assertLess(took, 5, "the answer waited for the disk")
        os.unlink(flag)  # the disk is back
        self.assertEqual(g.post_events("t", rows(1, "after")).status, 202)
        self.wait_for_count("t", 1, where="note = 'after'")
        self.assertIsNone(g.proc.poll())


def subprocess_output(args):
    import subprocess
    done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return done.stdout + done.stderr


if __name__ == "__main__":
    unittest.main()
