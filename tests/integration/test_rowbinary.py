"""insert_format: rowbinary: batches go to ClickHouse as RowBinary, encoded
from the table's columns, and what lands is what the same events land as
through JSONEachRow, for every type chgate encodes; what it does not encode
goes as JSONEachRow."""

import json
import random

from harness import IntegrationTest, wait_until

COLUMNS = ("id UInt32, i8 Int8, u16 UInt16, i64 Int64, u64 UInt64, flag UInt8, f32 Float32, "
           "f64 Float64, d Decimal(18, 4), big Decimal(38, 10), s String, fs FixedString(4), day Date, "
           "ts DateTime, tsu DateTime('UTC'), uid UUID, kind Enum8('a' = 1, 'b' = -2), "
           "n Nullable(Int32), ns Nullable(String), arr Array(UInt16), an Array(Nullable(String)), "
           "nested Array(Array(Int8)), pair Tuple(UInt8, String)")


def events(count, seed):
    rnd = random.Random(seed)
    texts = ["", "plain", "tab\there", "quote\" and \\ back", "new\nline", "ünïcödé ✓", "\u0000nul",
             "a" * 300]
    out = []
    for i in range(count):
        e = {"id": i,
             "i8": rnd.choice([-128, 127, 0, -1]),
             "u16": rnd.choice([0, 65535, str(rnd.randrange(65536))]),
             "i64": rnd.choice([-9223372036854775808, 9223372036854775807, rnd.randrange(-10**12, 10**12)]),
             "u64": rnd.choice([18446744073709551615, 0, rnd.randrange(10**15)]),
             "flag": rnd.choice([True, False, 0, 1, None]),
             "f32": rnd.choice([0.5, -1.25, 3, "2.5", None]),
             "f64": rnd.choice([0.1, -1e300, 2.5e-300, 12345.678, "inf", "-inf"]),
             "d": rnd.choice([0, -12.34, 9999999999999.5, 1.5, 7]),
             "big": rnd.choice([0, 123456789.0123, -0.5, 5]),
             "s": rnd.choice(texts),
             "fs": rnd.choice(["", "ab", "abcd", "é"]),
             "day": rnd.choice(["1970-01-01", "2026-12-03", "2105-12-31", "2000-02-29"]),
             "ts": rnd.choice([0, 1796317467, "2026-12-03 17:04:27", 4294967295]),
             "tsu": rnd.choice([1, "2000-01-01 00:00:00"]),
             "uid": rnd.choice(["01234567-89ab-cdef-0011-223344556677", "00000000-0000-0000-0000-000000000000",
                                "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"]),
             "kind": rnd.choice(["a", "b"]),
             "n": rnd.choice([None, -5, 2147483647]),
             "ns": rnd.choice([None, "", "x"]),
             "arr": rnd.choice([[], [1, 2, 65535]]),
             "an": rnd.choice([[], ["a", None, ""]]),
             "nested": rnd.choice([[], [[1, -2], [], [127]]]),
             "pair": rnd.choice([[0, ""], [255, "two"]])}
        # Some events leave fields out: those get their type's default.
        for name in rnd.sample(sorted(e), rnd.randrange(3)):
            if name != "id":
                del e[name]
        out.append(e)
    return out


class RowBinaryTest(IntegrationTest):
    SCHEMA = {"rb": COLUMNS, "js": COLUMNS,
              "dflt": "id UInt32, doubled UInt32 DEFAULT id * 2", "dflt_js": "id UInt32, doubled UInt32 DEFAULT id * 2"}

    def rows(self, table):
        return self.ch.query(f"SELECT * FROM `{self.db}`.`{table}` ORDER BY id FORMAT TSV")

    def assert_same_rows(self, a, b, sent):
        """Row by row, naming the event that landed differently."""
        rows_a, rows_b = self.rows(a).splitlines(), self.rows(b).splitlines()
        self.assertEqual(len(rows_a), len(rows_b))
        by_id = {e["id"]: e for e in sent}
        for x, y in zip(rows_a, rows_b):
            if x != y:
                self.fail(f"{a}: {x}\n{b}: {y}\nsent: {json.dumps(by_id.get(int(x.split()[0])))}")

    def test_every_type_lands_as_through_jsoneachrow(self):
        table = {"strategy": "hybrid", "max_batch_time": "200ms", "max_batch_size": 100000, "ack": "buffered"}
        g = self.start({"rb": dict(table, insert_format="rowbinary"), "js": table,
                        "dflt": dict(table, insert_format="rowbinary"), "dflt_js": table})
        for t in ("rb", "js", "dflt"):
            wait_until(lambda: g.request("GET", f"/v1/tables/{t}").json()["schema"]["state"] == "known",
                       10, message=f"the columns of {t}")
        sent = events(400, seed=7)
        for start in range(0, len(sent), 100):
            for t in ("rb", "js"):
                r = g.post_events(t, sent[start:start + 100])
                self.assertEqual(r.status, 202, r)
        self.wait_for_count("rb", len(sent))
        self.wait_for_count("js", len(sent))
        self.assert_same_rows("rb", "js", sent)
        state = g.metrics()["clickhouse"]["rowbinary"]
        self.assertGreater(state["batches"], 0)
        self.assertEqual(state["as_jsoneachrow"], 0)
        # What chgate does not encode goes as JSONEachRow, and lands the same:
        # DateTime text in a form only the server reads, and an event without
        # a field that has a DEFAULT expression.
        iso = dict(sent[0], id=10_000, ts="2026-12-03T17:04:27Z")
        self.assertEqual(g.post_events("rb", iso).status, 202)
        self.assertEqual(g.post_events("js", iso).status, 202)
        for t in ("dflt", "dflt_js"):
            self.assertEqual(g.post_events(t, [{"id": 1, "doubled": 5}, {"id": 2}]).status, 202)
        self.wait_for_count("rb", len(sent) + 1)
        self.wait_for_count("js", len(sent) + 1)
        self.wait_for_count("dflt", 2)
        self.wait_for_count("dflt_js", 2)
        self.assert_same_rows("rb", "js", sent + [iso])
        self.assertEqual(self.rows("dflt"), self.rows("dflt_js"))
        state = g.metrics()["clickhouse"]["rowbinary"]
        self.assertEqual(state["as_jsoneachrow"], 2)
        self.assertIn("is sent as JSONEachRow", g.log())
        # The server saw RowBinary INSERTs for the table (its query log lags).
        def logged():
            self.ch.query("SYSTEM FLUSH LOGS")
            return int(self.ch.query(
                f"SELECT count() FROM system.query_log WHERE type = 2 AND query LIKE "
                f"'INSERT INTO `{self.db}`.`rb` (%) FORMAT RowBinary%'")) > 0
        wait_until(logged, 20, interval=0.5, message="a RowBinary INSERT in the query log")
