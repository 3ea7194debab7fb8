"""log.format: every line of a real run, in json and in logfmt, parses, carries
ts, level and msg, and the stable fields (table, batch_id, rows, bytes, code)
where a batch is concerned; a ClickHouse error quoting a client's huge bad
row stays one short, parseable line."""

import json
import re
import time
import unittest

from harness import IntegrationTest, wait_until

COLUMNS = "id UInt32, note String"
TABLES = {"t": {"strategy": "hybrid", "max_batch_time": "200ms", "schema": "off",
                "failure_strategy": "SendToDLQ"}}
LOGFMT_PAIR = re.compile(r'([a-z_]+)=("(?:[^"\\]|\\.)*"|[^ "=]+)(?: |$)')


def parse_logfmt(line):
    pairs = {}
    pos = 0
    while pos < len(line):
        m = LOGFMT_PAIR.match(line, pos)
        if not m:
            raise AssertionError(f"not logfmt at {pos}: {line!r}")
        value = m.group(2)
        if value.startswith('"'):
            value = re.sub(r'\\(.)', r'\1', value[1:-1])
        pairs[m.group(1)] = value
        pos = m.end()
    return pairs


class LogFormatTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS}

    def run_traffic(self, fmt):
        g = self.start(TABLES, log={"format": fmt, "level": "debug"})
        self.assertEqual(g.post_events("t", [{"id": 1, "note": "a"}, {"id": 2, "note": "b"}])
                         .status, 202)
        self.wait_for_count("t", 2)
        # A row ClickHouse refuses, with a huge value it quotes back in its error.
        bad = {"id": "not a number " + "x" * 100_000, "note": "c"}
        self.assertEqual(g.post_events("t", bad).status, 202)
        wait_until(lambda: g.metrics()["tables"]["t"]["rows_dead_lettered"] == 1, 15,
                   message="the bad row in the dead letters")
        g.stop()
        lines = [l for l in g.log().splitlines() if l.strip()]
        self.assertGreater(len(lines), 5)
        return lines

    def check_fields(self, records):
        for r in records:
            self.assertEqual(list(r)[:3], ["ts", "level", "msg"], r)
            self.assertRegex(r["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(r["level"], ("debug", "info", "warn", "error"))
            self.assertLess(len(r["msg"]), 9 * 1024, "a message past its 8 KiB cut")
        inserted = [r for r in records if "inserted 2 rows" in r["msg"]]
        self.assertEqual(len(inserted), 1, records)
        self.assertEqual(inserted[0]["table"], "t")
        self.assertEqual(str(inserted[0]["rows"]), "2")
        self.assertIn("batch_id", inserted[0])
        self.assertIn("bytes", inserted[0])
        failed = [r for r in records if "failed on attempt" in r["msg"]]
        self.assertTrue(failed, records)
        self.assertEqual(failed[0]["table"], "t")
        self.assertIn(str(failed[0]["code"]), ("6", "27", "72"))  # Cannot parse …
        self.assertIn("replica", failed[0])
        self.assertTrue(any("ready: replayed" in r["msg"] for r in records))

    def test_json_lines(self):
        lines = self.run_traffic("json")
        records = []
        for line in lines:
            records.append(json.loads(line))  # every line is one JSON object
            self.assertLess(len(line), 12 * 1024)
        self.check_fields(records)
        self.assertEqual(type(records[0]["msg"]), str)
        numbers = [r for r in records if "batch_id" in r]
        self.assertTrue(all(isinstance(r["batch_id"], int) for r in numbers))

    def test_logfmt_lines(self):
        lines = self.run_traffic("logfmt")
        records = [parse_logfmt(line) for line in lines]
        for line in lines:
            self.assertLess(len(line), 12 * 1024)
        self.check_fields(records)


if __name__ == "__main__":
    unittest.main()
