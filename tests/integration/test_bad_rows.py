"""One bad row never sinks its batch: ClickHouse's refusals are isolated by
bisection, good rows inserted, bad ones kept as dead letters with the reason.
The tables here have schema: off, so that bad rows reach ClickHouse (under
schema: check they get 400 at the door: test_schema)."""

import glob
import json
import os
import unittest

from harness import IntegrationTest, wait_until

COLUMNS = "id UInt32, ts DateTime, n Float64, s String"
ONE_BATCH = {"strategy": "hybrid", "max_batch_size": 1000, "max_batch_time": "300ms", "schema": "off"}

# The three kinds of bad row the issue names, and what ClickHouse 18.16 says.
BAD_ROWS = {
    "string where a number belongs": ({"n": "not a number"}, 27),
    "type mismatch": ({"s": {"nested": "object"}}, 26),
    "unparsable date": ({"ts": "yesterday"}, 41),
}


def batch(bad=None, at=500, n=1000, prefix="r"):
    rows = [{"id": i, "ts": "2026-11-21T10:30:15Z", "n": i / 2, "s": f"{prefix}{i}"}
            for i in range(n)]
    if bad:
        rows[at].update(bad)
    return rows


class BadRowsTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS}

    def dead_letter_lines(self, storage):
        lines = []
        for f in sorted(glob.glob(os.path.join(storage, "dead-letter", "*", "*.ndjson"))):
            with open(f) as fh:
                lines += [json.loads(line) for line in fh if line.strip()]
        return lines

    def test_one_bad_row_of_each_kind_in_a_batch_of_1000(self):
        for kind, (bad, code) in BAD_ROWS.items():
            with self.subTest(kind=kind):
                storage = self.storage_dir()
                table = f"t_{code}"
                self.ch.query(f"CREATE TABLE `{self.db}`.{table} ({COLUMNS}) ENGINE = MergeTree() ORDER BY id")
                g = self.start({table: ONE_BATCH}, storage)
                self.assertEqual(g.post_events(table, batch(bad)).status, 202)
                self.wait_for_count(table, 999, timeout=15)
                wait_until(lambda: g.metrics()["tables"][table]["rows_dead_lettered"] == 1, 10,
                           message="the dead letter")
                self.assertEqual(self.count(table, "id = 500"), 0)
                dead = self.dead_letter_lines(storage)
                self.assertEqual(len(dead), 1)
                self.assertEqual(dead[0]["code"], code)
                self.assertIn(f"Code: {code}", dead[0]["error"])
                self.assertEqual(dead[0]["row"]["id"], 500)
                self.assertEqual(dead[0]["table"], f"{self.db}.{table}")
                listing = g.request("GET", "/admin/dead-letter").json()
                self.assertEqual(listing["tables"][f"{self.db}.{table}"]["rows"], 1)
                m = g.metrics()["tables"][table]
                self.assertEqual((m["rows_inserted"], m["rows_dropped"]), (999, 0))
                self.assertEqual(g.stop(), 0)

    def test_several_bad_rows_spread_over_requests(self):
        storage = self.storage_dir()
        g = self.start({"t": ONE_BATCH}, storage)
        rows = batch()
        for i in (0, 333, 334, 999):
            rows[i]["n"] = "bad"
        # Ten requests of 100 rows: one batch of 1000 once sealed.
        for k in range(10):
            self.assertEqual(g.post_events("t", rows[k * 100:(k + 1) * 100]).status, 202)
        self.wait_for_count("t", 996, timeout=15)
        wait_until(lambda: len(self.dead_letter_lines(storage)) == 4, 10, message="4 dead letters")
        self.assertEqual(sorted(d["row"]["id"] for d in self.dead_letter_lines(storage)),
                         [0, 333, 334, 999])

    def test_log_and_continue_drops_and_counts(self):
        storage = self.storage_dir()
        g = self.start({"t": dict(ONE_BATCH, failure_strategy="LogAndContinue")}, storage)
        g.post_events("t", batch({"n": "x"}))
        self.wait_for_count("t", 999, timeout=15)
        wait_until(lambda: g.metrics()["tables"]["t"]["rows_dropped"] == 1, 10, message="the drop")
        self.assertEqual(self.dead_letter_lines(storage), [])
        self.assertIn("dropped (LogAndContinue)", g.log())

    def test_fail_batch_quarantines_the_whole_batch(self):
        storage = self.storage_dir()
        g = self.start({"t": dict(ONE_BATCH, failure_strategy="FailBatch")}, storage)
        g.post_events("t", batch({"n": "x"}))
        wait_until(lambda: len(self.dead_letter_lines(storage)) == 1000, 15, message="1000 dead letters")
        self.assertEqual(self.count("t"), 0)

    def test_committed_ack_answers_502_but_the_good_rows_land(self):
        g = self.start({"t": dict(ONE_BATCH, ack="committed")})
        r = g.post_events("t", batch({"n": "x"}))
        self.assertEqual(r.status, 502, r)
        self.assertIn("refused", r.json()["error"])
        self.assertEqual(self.count("t"), 999)

    def test_error_classes_override_the_default(self):
        # Code 27 treated as transient: retried and spooled, never bisected nor
        # dead-lettered, however long it keeps failing.
        storage = self.storage_dir()
        g = self.start({"t": dict(ONE_BATCH, ack="buffered", retry_attempts=2)}, storage,
                       clickhouse={"error_classes": {27: "retry"},
                                   "retry": {"initial": "50ms", "max": "100ms"},
                                   "settings": {"date_time_input_format": "best_effort"}})
        g.post_events("t", batch({"n": "x"}))
        wait_until(lambda: g.metrics()["tables"]["t"]["rows_spooled"] >= 1000, 10, message="the spool")
        m = g.metrics()["tables"]["t"]
        self.assertGreaterEqual(m["failed_batches"], 3)
        self.assertEqual((m["rows_dead_lettered"], m["rows_dropped"]), (0, 0))
        self.assertEqual(self.count("t"), 0)

    def test_admin_token_guards_the_admin_api(self):
        g = self.start({"t": ONE_BATCH}, admin={"token": "s3cret-admin-token"})
        r = g.request("GET", "/admin/dead-letter")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers.get("WWW-Authenticate"), 'Bearer realm="chgate"')
        self.assertEqual(g.request("GET", "/admin/dead-letter",
                                   headers={"Authorization": "Bearer nope"}).status, 403)
        ok = g.request("GET", "/admin/dead-letter", headers={"Authorization": "Bearer s3cret-admin-token"})
        self.assertEqual((ok.status, ok.json()["tables"]), (200, {}))
        self.assertEqual(g.request("POST", "/admin/dead-letter",
                                   headers={"Authorization": "Bearer s3cret-admin-token"}).status, 405)

    def test_dead_letters_replay_after_a_schema_fix(self):
        storage = self.storage_dir()
        self.ch.query(f"CREATE TABLE `{self.db}`.narrow (id UInt32, n UInt8) ENGINE = MergeTree() ORDER BY id")
        g = self.start({"narrow": ONE_BATCH}, storage)
        rows = [{"id": i, "n": 7} for i in range(10)] + [{"id": 10, "n": "big"}]
        g.post_events("narrow", rows)
        self.wait_for_count("narrow", 10)
        wait_until(lambda: g.metrics()["tables"]["narrow"]["rows_dead_lettered"] == 1, 10,
                   message="the dead letter")
        # The schema catches up with the data: n becomes a String.
        self.ch.query(f"ALTER TABLE `{self.db}`.narrow MODIFY COLUMN n String")
        r = g.request("POST", "/admin/dead-letter/narrow/replay")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["replayed"], r.json()["committed"]), (1, 1))
        self.assertEqual(self.count("narrow"), 11)
        self.assertEqual(self.count("narrow", "n = 'big'"), 1)
        self.assertEqual(g.request("GET", "/admin/dead-letter").json()["tables"], {})
        self.assertEqual(self.dead_letter_lines(storage), [])


if __name__ == "__main__":
    unittest.main()
