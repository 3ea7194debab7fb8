"""A table ClickHouse cannot take (dropped, no access) is held: its rows are
kept, /readyz says why, and delivery resumes by itself once it is fixed."""

import time
import unittest

from harness import IntegrationTest, wait_until

COLUMNS = "id UInt32, note String"
FAST = {"strategy": "hybrid", "max_batch_time": "200ms"}


class HoldTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS, "other": COLUMNS}

    def test_a_dropped_table_is_held_and_its_rows_delivered_once_recreated(self):
        g = self.start({"t": FAST, "other": FAST}, clickhouse={
            "hold_probe_interval": "500ms",
            "settings": {"date_time_input_format": "best_effort"}})
        self.assertEqual(g.post_events("t", [{"id": 1, "note": "before"}]).status, 202)
        self.wait_for_count("t", 1)

        self.ch.query(f"DROP TABLE `{self.db}`.t")
        for i in range(2, 52):
            self.assertEqual(g.post_events("t", [{"id": i, "note": "while dropped"}]).status, 202)
        r = wait_until(lambda: (lambda r: r if r.status == 503 else None)(g.request("GET", "/readyz")),
                       10, message="readyz to fail")
        self.assertIn("table t is held", r.json()["reason"])
        self.assertIn("Code 60", r.json()["held_tables"]["t"]["reason"])
        m = g.metrics()["tables"]["t"]
        self.assertTrue(m["held"])
        self.assertIn("Code 60", m["held_reason"])
        self.assertEqual((m["rows_dropped"], m["rows_dead_lettered"]), (0, 0))
        self.assertGreater(m["pending_rows"] + m["buffered_rows"], 0)

        # A healthy table is not held up by the broken one.
        self.assertEqual(g.post_events("other", [{"id": 1, "note": "fine"}]).status, 202)
        self.wait_for_count("other", 1, timeout=5)

        # Probes are slow: a few in two seconds, not one per batch per backoff.
        failed_before = m["failed_batches"]
        time.sleep(2)
        self.assertLessEqual(g.metrics()["tables"]["t"]["failed_batches"] - failed_before, 6)

        self.ch.query(f"CREATE TABLE `{self.db}`.t ({COLUMNS}) ENGINE = MergeTree() ORDER BY id")
        self.wait_for_count("t", 50, timeout=15)
        wait_until(lambda: g.request("GET", "/readyz").status == 200, 10, message="ready again")
        m = g.metrics()["tables"]["t"]
        self.assertFalse(m["held"])
        self.assertEqual(m["holds"], 1)
        self.assertIn("is no longer held", g.log())
        self.assertEqual(g.stop(), 0)

    def test_readiness_can_ignore_held_tables(self):
        g = self.start({"t": FAST}, readiness={"held_tables": False},
                       clickhouse={"hold_probe_interval": "500ms",
                                   "settings": {"date_time_input_format": "best_effort"}})
        self.ch.query(f"DROP TABLE `{self.db}`.t")
        g.post_events("t", [{"id": 1, "note": "x"}])
        wait_until(lambda: g.metrics()["tables"]["t"]["held"], 10, message="the hold")
        r = g.request("GET", "/readyz")
        self.assertEqual(r.status, 200, r)
        self.assertIn("t", r.json()["held_tables"])


if __name__ == "__main__":
    unittest.main()
