"""A success answer means what the table's ack level says: processes are really
killed and the rows counted in ClickHouse."""

import glob
import http.client
import json
import os
import signal
import threading
import time
import unittest

from harness import Chgate, IntegrationTest, Loader, wait_until

COLUMNS = "id String, n UInt32"
# Nothing flushes on its own for a minute: rows stay in memory (and the log).
SLOW = {"strategy": "hybrid", "max_batch_size": 100000, "max_batch_time": "1m"}


def record_starts(data):
    """Offsets of the write-ahead log records in a segment, and where they end:
    each is a 24-byte header (magic, length, crc, type, lsn), then `length`
    bytes of payload; zeros (space preallocated ahead of the records) follow."""
    starts, pos = [], 0
    while pos + 24 <= len(data) and data[pos:pos + 4] == b"CHGW":
        starts.append(pos)
        pos += 24 + int.from_bytes(data[pos + 4:pos + 8], "little")
    return starts, pos


class DeliveryTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS, "b": COLUMNS}

    def ids_in(self, table):
        return [r["id"] for r in self.ch.rows(f"SELECT id FROM `{self.db}`.`{table}`")]

    def durable_events_then_kill(self, prefix, n):
        """Starts chgate with a durable table t, posts events {prefix}0..n-1 one
        per request (each must get 202), kills it: the storage dir holds them."""
        storage = self.storage_dir()
        g = self.start({"t": dict(SLOW, ack="durable")}, storage)
        for i in range(n):
            self.assertEqual(g.post_events("t", {"id": f"{prefix}{i}", "n": i}).status, 202)
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        return storage

    def test_crash_under_load_loses_no_acknowledged_event(self):
        storage = self.storage_dir()
        tables = {"t": {"strategy": "hybrid", "max_batch_size": 500, "max_batch_time": "300ms",
                        "ack": "durable"}}
        g = self.start(tables, storage)
        load = Loader(g.port, "t")
        load.start()
        wait_until(lambda: len(load.acked) >= 3000, 30, message="load")
        g.proc.send_signal(signal.SIGKILL)  # mid-load: batches in memory, in flight, in the log
        g.proc.wait()
        load.join()
        acked = set(load.acked)
        self.assertGreaterEqual(len(acked), 3000)  # acknowledged before the kill

        g2 = self.start(tables, storage)
        wait_until(lambda: g2.request("GET", "/readyz").status == 200, 30, message="replay")
        wait_until(lambda: acked <= set(self.ids_in("t")), 30, message="every acknowledged event")
        landed = self.ids_in("t")
        duplicates = len(landed) - len(set(landed))
        unacked_landed = len(set(landed) - acked)
        print(f"\ncrash test: {len(acked)} acknowledged, all in ClickHouse; {duplicates} duplicates "
              f"(ClickHouse 18.16 has no insert_deduplication_token); {unacked_landed} of "
              f"{len(load.unanswered)} unanswered events landed too")
        self.assertTrue(set(landed) <= acked | load.unanswered, "rows nobody sent")
        m = g2.metrics()
        self.assertGreater(m["storage"]["replay"]["rows"], 0)
        self.assertEqual(g2.stop(), 0)

    def test_a_stop_under_durable_load_answers_or_refuses_and_loses_nothing(self):
        # Durable answers are written by the log writer while sessions read on;
        # SIGTERM in the middle must still end cleanly, with every 202 landed.
        tables = {"t": {"strategy": "hybrid", "max_batch_size": 500, "max_batch_time": "300ms",
                        "ack": "durable"}}
        g = self.start(tables)
        load = Loader(g.port, "t", threads=16, per_request=1)
        load.start()
        wait_until(lambda: len(load.acked) >= 2000, 30, message="load")
        self.assertEqual(g.stop(), 0, g.log())
        load.join()
        acked = set(load.acked)
        landed = self.ids_in("t")
        self.assertTrue(acked <= set(landed), f"{len(acked - set(landed))} acknowledged events lost")
        self.assertEqual(len(landed), len(set(landed)), "duplicates after a clean stop")
        self.assertTrue(set(landed) <= acked | load.unanswered, "rows nobody sent")
        self.assertEqual(set(load.statuses) - {202, 503}, set(), load.statuses)

    def test_durable_rows_are_replayed_after_kill(self):
        storage = self.storage_dir()
        g = self.start({"t": dict(SLOW, ack="durable")}, storage)
        for i in range(20):
            r = g.post_events("t", [{"id": f"d{i}-{k}", "n": k} for k in range(5)])
            self.assertEqual(r.status, 202, r)
        self.assertEqual(self.count("t"), 0)
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()

        g2 = self.start({"t": dict(SLOW, ack="durable")}, storage)
        self.wait_for_count("t", 100, timeout=20)
        m = g2.metrics()
        self.assertEqual(m["tables"]["t"]["rows_replayed"], 100)
        self.assertEqual(m["storage"]["replay"]["rows"], 100)
        self.assertIn("replaying 100 rows", g2.log())
        self.assertEqual(sorted(self.ids_in("t")),
                         sorted(f"d{i}-{k}" for i in range(20) for k in range(5)))
        # Once committed, the log holds nothing to replay: a restart adds nothing.
        self.assertEqual(g2.stop(), 0)
        g3 = self.start({"t": dict(SLOW, ack="durable")}, storage)
        wait_until(lambda: g3.request("GET", "/readyz").status == 200, 10, message="ready")
        self.assertEqual(g3.metrics()["storage"]["replay"]["rows"], 0)
        self.assertEqual(self.count("t"), 100)

    def test_an_unreadable_segment_is_set_aside_and_the_start_goes_on(self):
        storage = self.durable_events_then_kill("u", 10)
        # A segment that cannot be read (as after an I/O error): a directory
        # where the log expects a file, named before the real one.
        log_dir = os.path.dirname(glob.glob(os.path.join(storage, "wal", "*", "*.wal"))[0])
        bad = os.path.join(log_dir, "0" * 20 + ".wal")
        os.mkdir(bad)
        with open(os.path.join(bad, "x"), "w") as f:
            f.write("x")

        g2 = self.start({"t": dict(SLOW, ack="durable")}, storage)
        self.wait_for_count("t", 10, timeout=20)
        self.assertEqual(g2.metrics()["storage"]["replay"]["unreadable_segments"], 1)
        self.assertIn("its records are not replayed", g2.log())
        self.assertTrue(os.path.isdir(bad + ".unreadable"))
        self.assertEqual(g2.post_events("t", {"id": "after", "n": 1}).status, 202)
        self.assertEqual(g2.stop(), 0)

    def test_buffered_rows_are_lost_on_kill_as_documented(self):
        storage = self.storage_dir()
        g = self.start({"b": dict(SLOW, ack="buffered")}, storage)
        self.assertEqual(g.post_events("b", [{"id": "x", "n": 1}]).status, 202)
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        g2 = self.start({"b": dict(SLOW, ack="buffered")}, storage)
        wait_until(lambda: g2.request("GET", "/readyz").status == 200, 10, message="ready")
        time.sleep(1)
        self.assertEqual(self.count("b"), 0)

    def test_committed_ack_answers_only_after_the_rows_can_be_selected(self):
        g = self.start({"t": {"strategy": "hybrid", "max_batch_time": "1s", "ack": "committed"},
                        "b": {"strategy": "hybrid", "max_batch_time": "1s", "ack": "buffered"}})
        for table, query in (("t", ""), ("b", "?ack=committed")):
            started = time.monotonic()
            r = g.request("POST", f"/v1/events/{table}{query}",
                          json.dumps([{"id": f"{table}-c{k}", "n": k} for k in range(3)]))
            waited = time.monotonic() - started
            self.assertEqual((r.status, r.json()), (200, {"accepted": 3, "committed": 3}), r)
            self.assertEqual(self.count(table), 3)  # selectable the moment we are told
            self.assertGreater(waited, 0.5, "the answer should wait for the batch")

    def test_committed_ack_answers_502_with_clickhouses_error(self):
        g = self.start({"t": {"strategy": "immediate", "ack": "committed", "schema": "off"}})
        r = g.post_events("t", [{"id": "ok", "n": "not a number"}])
        self.assertEqual(r.status, 502, r)
        self.assertIn("Code: 27", r.json()["error"])

    def test_committed_ack_times_out_with_504_and_keeps_the_rows(self):
        g = self.start({"t": dict(SLOW, ack="committed")}, server={"commit_timeout": "500ms"})
        r = g.post_events("t", [{"id": "late", "n": 1}])
        self.assertEqual(r.status, 504, r)
        self.assertIn("will be delivered", r.json()["error"])
        self.assertEqual(g.stop(), 0)  # the stop flushes the batch
        self.assertEqual(self.count("t"), 1)

    def test_a_corrupt_log_replays_the_rest_and_counts_the_damage(self):
        storage = self.durable_events_then_kill("r", 50)
        segments = glob.glob(os.path.join(storage, "wal", "*", "*.wal"))
        self.assertEqual(len(segments), 1)
        with open(segments[0], "rb") as f:
            data = bytearray(f.read())
        starts, end = record_starts(data)
        self.assertEqual(len(starts), 50)  # one data record per request
        # The open segment has zeros preallocated past its records.
        self.assertGreater(len(data), end)
        self.assertEqual(data[end:], bytes(len(data) - end))
        data[starts[25] + 24 + 3] ^= 0x20  # a flipped byte in the 26th record's payload
        last_record = end - starts[49]
        data[end - 7:end] = bytes(7)  # and a torn tail: the last record's end never written
        with open(segments[0], "wb") as f:
            f.write(data)

        g2 = self.start({"t": dict(SLOW, ack="durable")}, storage)
        self.wait_for_count("t", 48, timeout=20)
        replay = g2.metrics()["storage"]["replay"]
        self.assertEqual(replay["damaged_records"], 1)
        self.assertEqual(replay["torn_bytes"], last_record - 7)
        self.assertIn("damaged record", g2.log())
        self.assertIn("torn tail", g2.log())
        missing = {f"r{i}" for i in range(50)} - set(self.ids_in("t"))
        self.assertEqual(missing, {"r25", "r49"})
        self.assertEqual(g2.stop(), 0)

    def test_a_failed_log_write_answers_503_shows_in_readyz_and_recovers(self):
        # A file size limit on chgate makes the log's writes fail as a full disk
        # would (EFBIG instead of ENOSPC).
        self.last_storage_dir = self.storage_dir()
        g = self.start({"t": dict(SLOW, ack="durable"), "b": dict(SLOW, ack="buffered")},
                       self.last_storage_dir, max_file_size=256 * 1024,
                       storage={"preallocate": 0})
        acked, refused = [], None
        for i in range(20):
            ids = [f"f{i}-{k}-" + "x" * 1000 for k in range(50)]
            r = g.post_events("t", [{"id": x, "n": i} for x in ids])
            if r.status == 202:
                acked += ids
                continue
            refused = r
            break
        self.assertIsNotNone(refused, "the log never failed")
        self.assertEqual(refused.status, 503, refused)
        self.assertIn("write-ahead log", refused.json()["error"])
        self.assertGreater(len(acked), 0)
        ready = g.request("GET", "/readyz")
        self.assertEqual(ready.status, 503, ready)
        self.assertIn("write-ahead log failed", ready.json()["reason"])
        self.assertIn("File too large", ready.json()["reason"])
        failed = g.metrics()["storage"]["failed_logs"]
        self.assertEqual([f["table"] for f in failed], ["t"], failed)
        # Durable requests are refused, before their events are buffered, until
        # the log is tried again (after 1 s, in a new segment, which the limit
        # lets grow again); a buffered table goes on meanwhile.
        late = g.post_events("t", {"id": "late", "n": 1})
        self.assertEqual(late.status, 503, late)
        self.assertIn("nothing was stored", late.json()["error"])
        self.assertEqual(late.headers.get("Retry-After"), "1")
        # ack=committed does not wait for the log: it is taken meanwhile, and
        # answered once ClickHouse has the rows (flushed at once here).
        committed = {}

        def post_committed():
            committed["r"] = g.request("POST", "/v1/events/t?ack=committed",
                                       json.dumps({"id": "committed", "n": 1}))
        poster = threading.Thread(target=post_committed)
        poster.start()
        wait_until(lambda: g.metrics()["tables"]["t"]["rows_accepted"] > len(acked) + 50, 5,
                   message="the committed request buffered")
        self.assertEqual(g.request("GET", "/readyz").status, 503, "the log is still down")
        self.assertEqual(g.request("POST", "/admin/flush/t").status, 202)
        poster.join()
        self.assertEqual(committed["r"].status, 200, committed["r"])
        acked.append("committed")
        self.assertEqual(g.post_events("b", {"id": "b1", "n": 1}).status, 202)
        n = [0]

        def durable_again():
            n[0] += 1
            r = g.post_events("t", {"id": f"again{n[0]}", "n": 1})
            if r.status == 202:
                acked.append(f"again{n[0]}")
            return r.status == 202
        wait_until(durable_again, 10, message="the log written again")
        self.assertEqual(g.request("GET", "/readyz").status, 200)
        self.assertEqual(g.metrics()["storage"]["failed_logs"], [])
        self.assertIn("writing and syncing again", g.log())
        for i in range(5):
            self.assertEqual(g.post_events("t", {"id": f"after{i}", "n": 1}).status, 202)
            acked.append(f"after{i}")
        # A crash now: the start replays the new segment; nothing acknowledged
        # is lost, before the failure or after it.
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        g2 = self.start({"t": dict(SLOW, ack="durable"), "b": dict(SLOW, ack="buffered")},
                        self.last_storage_dir)
        self.assertEqual(g2.stop(), 0, g2.log())
        self.assertTrue(set(acked) <= set(self.ids_in("t")),
                        f"{len(set(acked) - set(self.ids_in('t')))} acknowledged events lost")
        # Refused means not stored: the client's retry cannot make a duplicate.
        self.assertNotIn("late", self.ids_in("t"))

    def test_a_log_failing_under_load_refuses_cleanly_and_loses_no_ack(self):
        # The log's segments fail at 128 KiB (a file size limit), again and
        # again under load: each time the log goes down, comes back in a new
        # segment, and fails again, while batches commit and a crash follows.
        storage = self.storage_dir()
        tables = {"t": {"strategy": "hybrid", "max_batch_size": 500, "max_batch_time": "300ms",
                        "ack": "durable"}}
        g = self.start(tables, storage, max_file_size=128 * 1024, storage={"preallocate": 0})
        load = Loader(g.port, "t", threads=8, per_request=5)
        load.start()
        wait_until(lambda: g.log().count("writing and syncing again") >= 2, 30,
                   message="the log failing and coming back twice")
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        load.join()
        acked = set(load.acked)
        refused = {i for i, e in load.errors.items() if "nothing was stored" in e}
        maybe = {i for i, e in load.errors.items() if "may still be delivered" in e}
        self.assertGreater(len(acked), 1000)
        self.assertGreater(len(refused), 0, load.statuses)
        self.assertEqual(set(load.statuses) - {202, 503}, set(), load.statuses)

        g2 = self.start(tables, storage)
        wait_until(lambda: g2.request("GET", "/readyz").status == 200, 30, message="replay")
        wait_until(lambda: acked <= set(self.ids_in("t")), 30, message="every acknowledged event")
        landed = self.ids_in("t")
        self.assertEqual(set(landed) & refused, set(), "a refused request was stored")
        self.assertTrue(set(landed) <= acked | maybe | load.unanswered, "rows nobody sent")
        print(f"\nfailing log under load: {len(acked)} acknowledged, all in ClickHouse; "
              f"{len(refused)} refused, none stored; {len(maybe & set(landed))} of {len(maybe)} "
              f"answered 503 after buffering landed; {len(landed) - len(set(landed))} duplicates")
        self.assertEqual(g2.stop(), 0)

    def test_a_second_instance_cannot_share_the_storage_directory(self):
        storage = self.storage_dir()
        self.start({"t": SLOW}, storage)
        with self.assertRaisesRegex(AssertionError, "in use by another chgate"):
            Chgate(self.config({"t": SLOW}, storage))


if __name__ == "__main__":
    unittest.main()
