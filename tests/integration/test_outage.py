"""ClickHouse really stopped under load: clients keep getting 202 while the
quotas last, and every acknowledged event arrives once ClickHouse is back."""

import time
import unittest

import harness

from harness import IntegrationTest, Loader, restart_clickhouse, rss_kib, wait_until

COLUMNS = "id String, n UInt32"


class OutageTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS, "u": COLUMNS, "healthy": COLUMNS, "broken": COLUMNS}

    def ids(self, table):
        return {r["id"] for r in self.ch.rows(f"SELECT id FROM `{self.db}`.`{table}`")}

    def test_a_20_second_outage_under_load_loses_nothing(self):
        g = self.start({"t": {"strategy": "hybrid", "max_batch_size": 500, "max_batch_time": "300ms",
                              "retry_attempts": 2}},
                       clickhouse={"retry": {"initial": "100ms", "max": "500ms"},
                                   "probe_interval": "200ms",
                                   "settings": {"date_time_input_format": "best_effort"}})
        load = Loader(g.port, "t", threads=4, pause=0.005)
        load.start()
        wait_until(lambda: len(load.acked) > 500, 20, message="load before the outage")
        during = {}

        def watch():
            wait_until(lambda: g.request("GET", "/readyz").status == 503, 10, message="readyz 503")
            before = len(load.acked)
            time.sleep(12)
            during["acked"] = len(load.acked) - before
            during["metrics"] = g.metrics()

        restart_clickhouse(20, while_down=watch)
        # Clients kept getting 202 while ClickHouse was away, from disk.
        self.assertGreater(during["acked"], 1000)
        self.assertGreater(during["metrics"]["tables"]["t"]["rows_spooled"], 0)
        time.sleep(2)
        load.join()
        acked = set(load.acked)
        wait_until(lambda: acked <= self.ids("t"), 60, interval=0.5, message="every acknowledged event")
        m = g.metrics()
        print(f"\noutage test: {len(acked)} acknowledged ({during['acked']} during the outage), all "
              f"in ClickHouse; {m['tables']['t']['rows_spooled']} rows went through the spool; "
              f"statuses {load.statuses}")
        wait_until(lambda: g.metrics()["storage"]["spool_bytes"] == 0, 30, message="an empty spool")
        self.assertEqual(g.stop(), 0)

    def test_full_quotas_answer_429_or_503_and_lose_nothing(self):
        g = self.start({"t": {"strategy": "hybrid", "max_batch_size": 200, "max_batch_time": "100ms",
                              "max_memory": "128KiB", "retry_attempts": 1},
                        "u": {"strategy": "hybrid", "max_batch_size": 200, "max_batch_time": "100ms",
                              "max_memory": "128KiB", "retry_attempts": 1, "ack": "buffered"}},
                       batching={"max_memory": "1MiB"},
                       storage={"max_disk": "256KiB"},
                       clickhouse={"retry": {"initial": "50ms", "max": "200ms"},
                                   "probe_interval": "200ms",
                                   "settings": {"date_time_input_format": "best_effort"}})
        loads = [Loader(g.port, t, threads=3, per_request=20, pause=0.002) for t in ("t", "u")]
        peak = {"rss": 0}

        def while_down():
            for load in loads:
                load.start()
            deadline = time.monotonic() + 12
            while time.monotonic() < deadline:
                peak["rss"] = max(peak["rss"], rss_kib(g.proc.pid))
                time.sleep(0.2)

        restart_clickhouse(14, while_down=while_down)
        time.sleep(1)
        for load in loads:
            load.join()
        statuses = {k: v for load in loads for k, v in load.statuses.items()}
        refused = statuses.get(429, 0) + statuses.get(503, 0)
        self.assertGreater(refused, 0, statuses)
        self.assertEqual(sum(load.retry_after for load in loads), refused, "every refusal says when to retry")
        if not harness.SANITIZED:
            self.assertLess(peak["rss"], 96 * 1024, f"RSS {peak['rss']} KiB")
        for load in loads:
            acked = set(load.acked)
            self.assertGreater(len(acked), 0)
            wait_until(lambda: acked <= self.ids(load.table), 60, interval=0.5,
                       message=f"every acknowledged event of {load.table}")
        print(f"\nfull test: statuses {statuses}, peak RSS {peak['rss'] // 1024} MiB")
        self.assertEqual(g.stop(), 0)

    def test_a_full_broken_table_does_not_stop_a_healthy_one(self):
        g = self.start({"broken": {"strategy": "hybrid", "max_batch_time": "100ms", "max_memory": "64KiB"},
                        "healthy": {"strategy": "hybrid", "max_batch_time": "100ms", "max_memory": "64KiB"}},
                       clickhouse={"hold_probe_interval": "1s",
                                   "settings": {"date_time_input_format": "best_effort"}})
        self.ch.query(f"DROP TABLE `{self.db}`.broken")
        codes = set()
        for i in range(400):
            codes.add(g.post_events("broken", [{"id": f"b{i}-{k}", "n": k} for k in range(20)]).status)
            if 429 in codes:
                break
        self.assertIn(429, codes)
        # The same size of request again: the quota is full, and stays full while held.
        r = g.post_events("broken", [{"id": f"again-{k}", "n": k} for k in range(20)])
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers.get("Retry-After"), "1")
        for i in range(50):
            self.assertEqual(g.post_events("healthy", [{"id": f"h{i}", "n": i}]).status, 202)
        self.wait_for_count("healthy", 50, timeout=10)


if __name__ == "__main__":
    unittest.main()
