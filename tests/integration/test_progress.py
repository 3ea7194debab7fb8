"""Long operations show their progress: the write-ahead log replay at start
and the spool's drain give rows done and left, rate and ETA in /readyz and
the log, while they run."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Chgate, Forwarder, IntegrationTest, make_config, wait_until  # noqa: E402

ROWS = 24_000
PAD = "x" * 60


class ProgressTest(IntegrationTest):
    SCHEMA = {"t": "id UInt64, pad String"}

    def readyz(self, g):
        r = g.request("GET", "/readyz")
        return json.loads(r.body)

    def watch(self, g, operation, until):
        """Polls /readyz until `until()`; returns every view of `operation` seen."""
        seen = []
        deadline = time.monotonic() + 60
        while not until():
            self.assertLess(time.monotonic(), deadline, f"{operation} to end")
            body = self.readyz(g)
            for p in body.get("progress", []):
                if p["operation"] == operation:
                    seen.append((p, body.get("reason", "")))
            time.sleep(0.02)
        return seen

    def test_wal_replay_and_spool_drain_show_rows_left_rate_and_eta(self):
        storage = self.storage_dir()
        proxy = Forwarder(self.ch.port)  # closed: ClickHouse does not answer
        self.addCleanup(proxy.close)
        url = f"http://127.0.0.1:{proxy.port}"
        # First run: rows acknowledged (durable: in the write-ahead log), none
        # sealed into a batch, then kill -9.
        tables = {"t": {"strategy": "size", "max_batch_size": 1_000_000, "ack": "durable"}}
        g = Chgate(make_config(self.db, tables, url, storage,
                               clickhouse={"retry": {"initial": "5s", "max": "5s"}}))
        try:
            for start in range(0, ROWS, 2000):
                rows = "\n".join(json.dumps({"id": i, "pad": PAD})
                                 for i in range(start, start + 2000))
                self.assertEqual(g.post_events("t", rows).status, 202)
        finally:
            g.proc.send_signal(signal.SIGKILL)
            g.proc.wait(10)

        # Second run: a small table quota, so that the replay goes a batch
        # (half the quota) at a time, each spooled after one failed retry.
        tables["t"].update({"retry_attempts": 1, "max_memory": "256KiB"})
        cfg = make_config(self.db, tables, url, storage,
                          clickhouse={"retry": {"initial": "50ms", "max": "100ms"},
                                      "probe_interval": "200ms"},
                          storage={"spool_replay_rate": "300KiB"})
        g = Chgate(cfg, wait_replayed=False)
        self.addCleanup(self.assert_no_sanitizer_report, g)
        self.addCleanup(g.__exit__)
        self.addCleanup(self._dump_log_on_failure, g)
        replay = self.watch(g, "wal_replay", lambda: g.replayed)
        self.assertTrue(replay, "no wal_replay progress in /readyz:\n" + g.log())
        moving = [(p, why) for p, why in replay if p["rows_done"] > 0 and p["rows_left"] > 0]
        self.assertTrue(moving, replay[-5:])
        p, reason = moving[-1]
        self.assertTrue(p["rows_left_estimated"])
        self.assertGreater(p["rows_per_second"], 0)
        self.assertIsNotNone(p["eta_seconds"])
        self.assertLess(p["rows_done"] + p["rows_left"], ROWS * 2)
        self.assertIn("replaying the write-ahead log: ", reason)
        self.assertIn(" rows done, about ", reason)
        if replay[-1][0]["elapsed_seconds"] > 6:
            self.assertRegex(g.log(), r"replaying the write-ahead logs: [\d,]+ rows done, about "
                                      r"[\d,]+ left \(\d+%\), [\d,]+ rows/s")
        # Once replayed, the operation is gone from /readyz.
        wait_until(lambda: not any(x["operation"] == "wal_replay"
                                   for x in self.readyz(g).get("progress", [])), 5,
                   message="the replay to leave /readyz")

        # The replayed rows went to the spool; ClickHouse comes back.
        wait_until(lambda: g.metrics()["tables"]["t"]["spool"]["rows"] > ROWS // 2, 30,
                   message="the spool to fill")
        proxy.open()
        drain = self.watch(g, "spool_drain", lambda: self.count("t") == ROWS)
        moving = [p for p, _ in drain if p["rows_done"] > 0 and p["rows_left"] > 0]
        self.assertTrue(moving, drain[-5:])
        p = moving[-1]
        self.assertFalse(p["rows_left_estimated"])
        self.assertGreater(p["rows_per_second"], 0)
        self.assertGreater(p["eta_seconds"], 0)
        self.assertLessEqual(p["rows_done"] + p["rows_left"], ROWS)
        wait_until(lambda: "spool: drained, " in g.log(), 15, message="the drain's last line")
        self.assertIn("spool: sending ", g.log())
        # A progress line every 5 s while rows move (the spool sends a batch
        # per 100 ms at most, so this drain is often quicker than that).
        if drain[-1][0]["elapsed_seconds"] > 6:
            self.assertRegex(g.log(), r"spool: draining: [\d,]+ rows done, [\d,]+ left "
                                      r"\(\d+%\), [\d,]+ rows/s, about \d+ (s|min) left")
        self.assertEqual(self.count("t"), ROWS)
        self.assertEqual(g.stop(), 0)


if __name__ == "__main__":
    unittest.main()
