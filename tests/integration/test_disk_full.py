"""A disk that really fills up (a small ext4 on a loop device; needs root):
chgate refuses cleanly, keeps what it acknowledged, survives kill -9 and a
start on the full disk, and goes on by itself once there is room again."""

import errno
import os
import time
import unittest

from harness import IntegrationTest, Loader, restart_clickhouse, wait_until

TABLES = {"t": {"strategy": "hybrid", "max_batch_size": 200, "max_batch_time": "200ms",
                "max_memory": "4MiB", "retry_attempts": 1}}  # ack: durable, the default
# storage.max_disk far above the disk: another program fills it, not chgate.
SECTIONS = {"batching": {"max_memory": "16MiB"}, "storage": {"max_disk": "1GiB"},
            "clickhouse": {"retry": {"initial": "50ms", "max": "200ms"}, "probe_interval": "200ms"}}


def fill(directory, name="filler"):
    """Writes a file until the filesystem holding `directory` is full."""
    path = os.path.join(directory, name)
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 4096):
            try:
                while True:
                    f.write(b"\xab" * size)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
    return path


class DiskFullTest(IntegrationTest):
    SCHEMA = {"t": "id String, n UInt32, pad String"}

    def ids(self):
        return [r["id"] for r in self.ch.rows(f"SELECT id FROM `{self.db}`.t")]

    def test_a_full_disk_refuses_cleanly_survives_a_restart_and_loses_nothing(self):
        disk = self.small_disk(32)
        storage = os.path.join(disk, "chgate")
        g = self.start(TABLES, storage, **SECTIONS)
        load = Loader(g.port, "t", threads=4, per_request=20, pause=0.005, pad=400)
        load.start()
        wait_until(lambda: len(load.acked) > 2000, 20, message="load before the outage")
        seen = {}

        def while_down():
            # ClickHouse is away: batches go to the spool; then the disk fills.
            wait_until(lambda: g.metrics()["storage"]["spool_bytes"] > 0, 20, message="spooling")
            seen["filler"] = fill(disk)
            wait_until(lambda: load.statuses.get(503, 0) > 0, 30, message="503 from the full disk")
            time.sleep(2)  # refusing for a while, with the disk still full
            seen["statuses"] = dict(load.statuses)
            seen["ready"] = g.request("GET", "/readyz")
            seen["metrics"] = g.metrics()
            seen["alive"] = g.proc.poll() is None
            seen["unanswered"] = set(load.unanswered)
            # A crash while the disk is full, and a start while it still is.
            g.proc.kill()
            g.proc.wait()
            load.join()
            # chgate may have deleted finished log segments after the disk
            # filled (their batches went to the spool): fill that room too,
            # so that the second start is on a full disk.
            seen["filler2"] = fill(disk, "filler2")
            st = os.statvfs(disk)
            seen["free_at_start"] = st.f_bavail * st.f_frsize
            seen["g2"] = g2 = self.start(TABLES, storage, **SECTIONS)
            seen["health"] = g2.request("GET", "/healthz").status
            # Durable requests on the full disk: taken if chgate finds room
            # (it deletes segments whose batches are finished), else refused.
            seen["posts2"] = [(f"full{i}", g2.post_events("t", {"id": f"full{i}", "n": 1, "pad": ""}))
                              for i in range(20)]
            os.unlink(seen["filler"])
            os.unlink(seen["filler2"])

        restart_clickhouse(12, while_down=while_down)
        self.assertTrue(seen["alive"], "chgate died on the full disk")
        statuses = seen["statuses"]
        self.assertEqual(set(statuses) - {202, 429, 503}, set(), statuses)
        self.assertEqual(seen["unanswered"], set(), "requests without an answer before the kill")
        self.assertEqual(seen["ready"].status, 503, seen["ready"])
        self.assertIn("write-ahead log failed", seen["ready"].json()["reason"])
        self.assertIn("No space left on device", seen["ready"].json()["reason"])
        self.assertIn("cannot spool", g.log())
        self.assertLess(seen["free_at_start"], 1 << 20, "the disk was not full at the second start")
        self.assertEqual(seen["health"], 200)
        acked = set(load.acked)
        not_stored = set()
        for event_id, r in seen["posts2"]:
            self.assertIn(r.status, (202, 429, 503), r)
            if r.status == 202:
                acked.add(event_id)
                continue
            self.assertIsNotNone(r.headers.get("Retry-After"), r)
            if "nothing was stored" in r.json()["error"]:
                not_stored.add(event_id)

        g2 = seen["g2"]
        n = [0]

        def durable_again():
            n[0] += 1
            r = g2.post_events("t", {"id": f"again{n[0]}", "n": 1, "pad": ""})
            if r.status == 202:
                acked.add(f"again{n[0]}")
            return r.status == 202
        wait_until(durable_again, 60, interval=0.5, message="durable requests taken again")
        wait_until(lambda: acked <= set(self.ids()), 90, interval=0.5,
                   message="every acknowledged event in ClickHouse")
        wait_until(lambda: g2.request("GET", "/readyz").status == 200, 30, message="ready again")
        landed = self.ids()
        self.assertEqual(set(landed) & not_stored, set(), "refused as not stored, yet stored")
        print(f"\ndisk full: {len(acked)} acknowledged, all in ClickHouse "
              f"({len(landed) - len(set(landed))} duplicates); statuses while full {statuses}; "
              f"after the start on the full disk {[r.status for _, r in seen['posts2']]}")
        self.assertEqual(g2.stop(), 0, g2.log())

    def test_a_bad_row_waits_in_memory_until_its_dead_letter_can_be_written(self):
        disk = self.small_disk(16)
        storage = os.path.join(disk, "chgate")
        g = self.start({"t": {"strategy": "hybrid", "max_batch_size": 100, "max_batch_time": "200ms", "schema": "off",
                              "ack": "buffered"}},
                       storage, clickhouse={"retry": {"initial": "100ms", "max": "300ms"}})
        filler = fill(disk)
        rows = [{"id": f"r{i}", "n": i, "pad": ""} for i in range(100)]
        rows[37]["n"] = "not a number"
        self.assertEqual(g.post_events("t", rows).status, 202)
        # The good rows go in; the bad one cannot be written down, so it stays.
        self.wait_for_count("t", 99, timeout=20)
        wait_until(lambda: g.log().count("cannot write dead letters") >= 2, 20,
                   message="the dead letter tried again")
        m = g.metrics()["tables"]["t"]
        self.assertEqual((m["rows_dead_lettered"], m["rows_dropped"]), (0, 0), m)
        self.assertGreater(m["rows_retried"], 0, m)
        os.unlink(filler)
        wait_until(lambda: g.metrics()["tables"]["t"]["rows_dead_lettered"] == 1, 20,
                   message="the dead letter written once there is room")
        listing = g.request("GET", "/admin/dead-letter").json()
        self.assertEqual(listing["tables"][f"{self.db}.t"]["rows"], 1, listing)
        self.assertEqual(self.count("t"), 99, "good rows sent twice")
        self.assertEqual(self.count("t", "id = 'r37'"), 0)
        self.assertEqual(g.stop(), 0)


if __name__ == "__main__":
    unittest.main()
