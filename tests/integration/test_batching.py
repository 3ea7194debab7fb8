"""Each strategy seals batches when it should, as ClickHouse sees it, and the
/metrics figures agree with the rows in ClickHouse."""

import json
import signal
import time
import unittest

from harness import IntegrationTest, wait_until

COLUMNS = "id UInt32, note String"


def rows(start, n, note=""):
    return [{"id": i, "note": note} for i in range(start, start + n)]


class BatchingTest(IntegrationTest):
    SCHEMA = {"pay": COLUMNS, "tw": COLUMNS, "sz": COLUMNS, "hy": COLUMNS, "mem": COLUMNS}

    def test_immediate_makes_one_insert_per_request(self):
        g = self.start({"pay": {"strategy": "immediate", "priority": 1}})
        for i in range(5):
            self.assertEqual(g.post_events("pay", rows(i * 3, 3)).status, 202)
        self.wait_for_count("pay", 15)
        self.assertEqual(self.ch.insert_queries(self.db, "pay"), 5)
        seals = g.metrics()["tables"]["pay"]["seals"]
        self.assertEqual(seals["immediate"], 5)

    def test_time_flushes_at_max_batch_time(self):
        # Windows of 2 s: everything posted within one window is one INSERT,
        # sent when the window closes, no later than 2 s after the first row.
        g = self.start({"tw": {"strategy": "time", "max_batch_time": "2s", "max_batch_size": 100000}})
        # Start right after a window boundary so the posts share one window.
        wait_until(lambda: (time.time() % 2.0) < 0.2, 3, interval=0.01, message="window start")
        posted = time.monotonic()
        for i in range(10):
            g.post_events("tw", rows(i * 10, 10))
        self.assertEqual(self.count("tw"), 0)
        self.wait_for_count("tw", 100, timeout=5)
        landed = time.monotonic() - posted
        self.assertLess(landed, 2.0 + 1.0, "rows waited past their window")
        self.assertEqual(self.ch.insert_queries(self.db, "tw"), 1)
        self.assertEqual(g.metrics()["tables"]["tw"]["seals"]["time"], 1)

    def test_admin_flush_seals_now(self):
        slow = {"strategy": "time", "max_batch_time": "10m", "max_batch_size": 100000}
        g = self.start({"tw": slow, "sz": slow}, admin={"token": "s3cret-admin-token"})
        self.assertEqual(g.post_events("tw", rows(0, 7)).status, 202)
        self.assertEqual(g.post_events("sz", rows(0, 5)).status, 202)
        auth = {"Authorization": "Bearer s3cret-admin-token"}
        self.assertEqual(g.request("POST", "/admin/flush/tw").status, 401)
        self.assertEqual(g.request("GET", "/admin/flush/tw", headers=auth).status, 405)
        self.assertEqual(g.request("POST", "/admin/flush/no%20table", headers=auth).status, 400)
        # One table: only its rows go.
        r = g.request("POST", "/admin/flush/tw", headers=auth)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json(), {"table": f"{self.db}.tw", "batches": 1, "rows": 7})
        self.wait_for_count("tw", 7, timeout=5)
        time.sleep(0.5)
        self.assertEqual(self.count("sz"), 0)
        # Every table; nothing left is nothing sealed.
        r = g.request("POST", "/admin/flush", headers=auth)
        self.assertEqual(r.json(), {"table": None, "batches": 1, "rows": 5})
        self.wait_for_count("sz", 5, timeout=5)
        self.assertEqual(g.request("POST", "/admin/flush", headers=auth).json()["batches"], 0)
        self.assertEqual(g.metrics()["tables"]["tw"]["seals"]["admin"], 1)

    def test_size_flushes_at_max_batch_size(self):
        g = self.start({"sz": {"strategy": "size", "max_batch_size": 100, "max_age": "1m"}})
        g.post_events("sz", rows(0, 99))
        time.sleep(2)
        self.assertEqual(self.count("sz"), 0, "a size table must not flush below max_batch_size")
        g.post_events("sz", rows(99, 1))
        self.wait_for_count("sz", 100, timeout=3)
        # 250 more: two full batches go out, 50 rows wait.
        g.post_events("sz", rows(100, 250))
        self.wait_for_count("sz", 300, timeout=3)
        time.sleep(1)
        self.assertEqual(self.count("sz"), 300)
        self.assertEqual(self.ch.insert_queries(self.db, "sz"), 3)
        m = g.metrics()["tables"]["sz"]
        self.assertEqual((m["seals"]["size"], m["buffered_rows"]), (3, 50))

    def test_hybrid_flushes_on_whichever_comes_first(self):
        g = self.start({"hy": {"strategy": "hybrid", "max_batch_size": 50, "max_batch_time": "1500ms"}})
        g.post_events("hy", rows(0, 120))  # two batches by size at once, 20 rows wait
        self.wait_for_count("hy", 100, timeout=3)
        t = time.monotonic()
        self.wait_for_count("hy", 120, timeout=4)
        self.assertGreater(time.monotonic() - t, 0.8, "the remainder should wait for max_batch_time")
        seals = g.metrics()["tables"]["hy"]["seals"]
        self.assertEqual((seals["size"], seals["time"]), (2, 1))

    def test_memory_seals_on_bytes(self):
        # max_memory 256KiB seals at 128KiB: ~300-byte rows, so ~435 rows a batch.
        g = self.start({"mem": {"strategy": "memory", "max_memory": "256KiB", "max_age": "1m"}})
        pad = "x" * 280
        for i in range(30):
            # A client backs off on 429 while the table's sealed batches are sent.
            r = wait_until(lambda: (lambda r: r if r.status != 429 else None)(
                g.post_events("mem", rows(i * 50, 50, pad))), 10, interval=0.1, message="202")
            self.assertEqual(r.status, 202, r)
        wait_until(lambda: g.metrics()["tables"]["mem"]["seals"]["memory"] >= 3, 5, message="memory seals")
        m = wait_until(lambda: (lambda m: m if m["pending_rows"] == 0 else None)(
            g.metrics()["tables"]["mem"]), 5, message="batches inserted")
        self.assertEqual(m["seals"]["memory"], m["batches_inserted"])
        self.assertEqual(self.count("mem"), m["rows_inserted"])
        self.assertEqual(m["rows_inserted"] + m["buffered_rows"], 1500)
        self.assertLess(m["buffered_bytes"], 128 * 1024)
        self.assertEqual(m["thresholds"]["seal_bytes"], 128 * 1024)

    def test_batching_disabled_forwards_every_request(self):
        g = self.start({"hy": {"strategy": "hybrid", "max_batch_size": 1000, "max_batch_time": "1m"}},
                       batching={"enabled": False})
        for i in range(4):
            g.post_events("hy", rows(i * 2, 2))
        self.wait_for_count("hy", 8, timeout=3)
        self.assertEqual(self.ch.insert_queries(self.db, "hy"), 4)
        self.assertFalse(g.metrics()["batching"]["enabled"])

    def test_metrics_match_clickhouse(self):
        tables = {"pay": {"strategy": "immediate"},
                  "hy": {"strategy": "hybrid", "max_batch_size": 40, "max_batch_time": "300ms"},
                  "sz": {"strategy": "size", "max_batch_size": 25}}
        g = self.start(tables)
        sent = {"pay": 0, "hy": 0, "sz": 0}
        for i in range(20):
            for table in sent:
                n = 5 + i % 7
                self.assertEqual(g.post_events(table, rows(sent[table], n)).status, 202)
                sent[table] += n
        # size keeps a remainder below 25 rows; everything else lands.
        expect_sz = sent["sz"] - sent["sz"] % 25
        self.wait_for_count("pay", sent["pay"])
        self.wait_for_count("hy", sent["hy"])
        self.wait_for_count("sz", expect_sz)
        m = g.metrics()
        for table in sent:
            t = m["tables"][table]
            self.assertEqual(t["rows_accepted"], sent[table])
            self.assertEqual(t["rows_inserted"], self.count(table), table)
            self.assertEqual(t["batches_inserted"], self.ch.insert_queries(self.db, table), table)
            self.assertEqual(t["failed_batches"], 0)
        b = m["batching"]
        self.assertEqual(b["total_items"], sent["pay"] + sent["hy"] + expect_sz)
        self.assertEqual(b["total_batches"], sum(m["tables"][t]["batches_inserted"] for t in sent))
        self.assertEqual(b["queued_items"], sent["sz"] - expect_sz)
        self.assertEqual(b["failed_batches"], 0)
        self.assertEqual(m["calculated"]["batch_success_rate"], 1.0)
        self.assertAlmostEqual(m["calculated"]["avg_items_per_batch"],
                               b["total_items"] / b["total_batches"], delta=0.05)
        self.assertGreater(m["calculated"]["events_per_second"], 0)
        self.assertRegex(b["last_flush_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertGreaterEqual(b["avg_flush_latency_ms"], 0)

    def test_graceful_stop_flushes_everything(self):
        # Nothing would flush for a minute on its own.
        slow = {"strategy": "hybrid", "max_batch_size": 100000, "max_batch_time": "1m"}
        g = self.start({"hy": slow, "sz": {"strategy": "size", "max_batch_size": 100000}})
        for i in range(30):
            g.post_events("hy", rows(i * 10, 10))
            g.post_events("sz", rows(i * 10, 10))
        self.assertEqual(self.count("hy") + self.count("sz"), 0)
        status = g.stop(signal.SIGTERM)
        self.assertEqual(status, 0, g.log())
        self.assertEqual(self.count("hy"), 300)
        self.assertEqual(self.count("sz"), 300)
        self.assertIn("600 rows inserted", g.log())
        g2 = self.start({"hy": slow})
        self.assertEqual(g2.stop(signal.SIGINT), 0)

    def test_requests_during_shutdown_are_answered_or_refused_never_lost(self):
        slow = {"strategy": "hybrid", "max_batch_size": 100000, "max_batch_time": "1m"}
        g = self.start({"hy": slow})
        accepted = 0
        for i in range(200):
            if i == 100:
                g.proc.send_signal(signal.SIGTERM)
            try:
                r = g.post_events("hy", rows(i * 5, 5))
            except OSError:
                continue  # the listener is closed: refused, not accepted
            if r.status == 202:
                accepted += 5
        # A second SIGTERM, as some supervisors send, must not cut the stop short.
        g.proc.send_signal(signal.SIGTERM)
        self.assertEqual(g.stop(sig=None), 0, g.log())
        self.assertGreaterEqual(accepted, 500)
        self.assertEqual(self.count("hy"), accepted)


if __name__ == "__main__":
    unittest.main()
