"""Long operations show their progress: the write-ahead log replay at start,
the spool's drain and a dead-letter replay give rows done and left, rate and
ETA in /readyz, the log, `chgate status` and the status page, while they run."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (CHGATE_BIN, SANITIZED, Chgate, Forwarder, IntegrationTest,  # noqa: E402
                     make_config, wait_until)

ROWS = 24_000
PAD = "x" * 60
DEAD_ROWS = 20_000


class ProgressTest(IntegrationTest):
    SCHEMA = {"t": "id UInt64, pad String"}

    def readyz(self, g):
        r = g.request("GET", "/readyz")
        return json.loads(r.body)

    def watch(self, g, operation, until, on_first=None):
        """Polls /readyz until `until()`; returns every view of `operation`
        seen. `on_first()` runs once, when the operation is first seen moving."""
        seen = []
        deadline = time.monotonic() + 60
        while not until():
            self.assertLess(time.monotonic(), deadline, f"{operation} to end")
            body = self.readyz(g)
            for p in body.get("progress", []):
                if p["operation"] == operation:
                    seen.append((p, body.get("reason", "")))
                    if on_first and p["rows_done"] > 0:
                        on_first()
                        on_first = None
            time.sleep(0.02)
        return seen

    def look(self, g):
        """While the replay runs: `chgate status` (text and JSON) and, unless
        under a sanitizer (Chromium's time), the status page in Chromium,
        started now and read later."""
        url = f"http://127.0.0.1:{g.port}"
        run = lambda *a: subprocess.run([CHGATE_BIN, "status", "--url", url, "--interval",  # noqa
                                         "200ms", *a], capture_output=True, text=True, timeout=30)
        self.status_json, self.status_text = run("--json"), run()
        self.page = None
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser and not SANITIZED:
            profile = tempfile.mkdtemp(prefix="chgate-it-chromium-")
            self.addCleanup(shutil.rmtree, profile, True)
            self.page = subprocess.Popen(
                [browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage", "--no-first-run", f"--user-data-dir={profile}",
                 "--virtual-time-budget=2000", "--dump-dom", url + "/ui"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

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
        replay = self.watch(g, "wal_replay", lambda: g.replayed, on_first=lambda: self.look(g))
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
        # chgate status said it, in words and in JSON.
        self.assertEqual(self.status_text.returncode, 0, self.status_text.stderr)
        self.assertRegex(self.status_text.stdout, r"replaying the write-ahead logs: [\d,]+ rows "
                                                  r"done, about [\d,]+ left \(\d+%\)")
        self.assertEqual(self.status_json.returncode, 0, self.status_json.stderr)
        shown = json.loads(self.status_json.stdout)["progress"]
        self.assertEqual([x["operation"] for x in shown], ["wal_replay"], shown)
        self.assertTrue(shown[0]["rows_left_estimated"])
        self.assertIn("replaying the write-ahead logs: ", shown[0]["words"])
        # And so did the page.
        if self.page is not None:
            dom, _ = self.page.communicate(timeout=120)
            self.assertIn('<section id="progress">', dom)  # no longer hidden
            self.assertRegex(dom, r'<tr data-operation="wal_replay"><td class="text" '
                                  r'data-field="operation">replaying the write-ahead logs</td>'
                                  r'<td class="text" data-field="table">every table</td>'
                                  r'<td data-field="rows_done">[\d,]+</td>'
                                  r'<td data-field="rows_left">about [\d,]+</td>')
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

    def test_a_dead_letter_replay_shows_its_progress(self):
        storage = self.storage_dir()
        self.ch.query(f"CREATE TABLE `{self.db}`.narrow (id UInt32, n UInt8) "
                      "ENGINE = MergeTree() ORDER BY id")
        table = {"strategy": "hybrid", "max_batch_size": 1000, "max_batch_time": "300ms",
                 "schema": "off"}
        # One dead letter, as chgate writes it: ClickHouse refuses the row.
        g = self.start({"narrow": table}, storage)
        g.post_events("narrow", [{"id": 0, "n": "big"}])
        wait_until(lambda: g.metrics()["tables"]["narrow"]["rows_dead_lettered"] == 1, 10,
                   message="the dead letter")
        self.assertEqual(g.stop(), 0)
        # Made many: the same line, with other rows (big enough that the
        # replay goes in several 1 MiB chunks).
        files = [os.path.join(root, f) for root, _, names in
                 os.walk(os.path.join(storage, "dead-letter")) for f in names
                 if f.endswith(".ndjson")]
        self.assertEqual(len(files), 1, files)
        with open(files[0]) as f:
            line = f.read().strip()
        head = line[:line.index(',"row":')]
        with open(files[0], "w") as f:
            for i in range(DEAD_ROWS):
                f.write(head + ',"row":' + json.dumps({"id": i, "n": "big" + PAD * 5}) + "}\n")
        self.ch.query(f"ALTER TABLE `{self.db}`.narrow MODIFY COLUMN n String")

        # Replayed while ClickHouse does not answer: the first chunk waits in
        # memory (2 MiB: room for one), the others wait for room.
        proxy = Forwarder(self.ch.port)
        self.addCleanup(proxy.close)
        table.update({"max_memory": "2MiB", "retry_attempts": 100})
        g = Chgate(make_config(self.db, {"narrow": table}, f"http://127.0.0.1:{proxy.port}",
                               storage, clickhouse={"retry": {"initial": "200ms", "max": "500ms"},
                                                    "probe_interval": "200ms",
                                                    "circuit_breaker": {"cooldown": "500ms"}}))
        self.addCleanup(self.assert_no_sanitizer_report, g)
        self.addCleanup(g.__exit__)
        self.addCleanup(self._dump_log_on_failure, g)
        answer = {}
        replay = threading.Thread(target=lambda: answer.update(
            r=g.request("POST", "/admin/dead-letter/narrow/replay", timeout=120)))
        replay.start()
        self.addCleanup(replay.join, 120)
        seen = []

        def stalled():
            seen.extend(p for p in self.readyz(g).get("progress", [])
                        if p["operation"] == "dead_letter_replay")
            return seen and seen[-1]["rows_done"] > 0 and seen[-1]["rows_left"] > 0
        wait_until(stalled, 30, message="the replay's progress in /readyz")
        p = seen[-1]
        self.assertEqual(p["table"], f"{self.db}.narrow")
        self.assertTrue(p["rows_left_estimated"])
        self.assertLess(p["rows_done"] + p["rows_left"], DEAD_ROWS * 2)
        done = subprocess.run([CHGATE_BIN, "status", "--url", f"http://127.0.0.1:{g.port}",
                               "--interval", "200ms"], capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout, rf"sending dead letters again of {self.db}\.narrow: "
                                      r"[\d,]+ rows done, about [\d,]+ left")
        proxy.open()
        replay.join(120)
        self.assertEqual(answer["r"].status, 200, answer["r"].body)
        self.assertEqual((answer["r"].json()["replayed"], answer["r"].json()["committed"]),
                         (DEAD_ROWS, DEAD_ROWS))
        self.assertEqual(self.count("narrow"), DEAD_ROWS)
        self.assertFalse(any(x["operation"] == "dead_letter_replay"
                             for x in self.readyz(g).get("progress", [])))
        self.assertEqual(g.stop(), 0)


if __name__ == "__main__":
    unittest.main()
