"""chgate's row check against ClickHouse itself: each JSON value of a pool is
inserted, alone, into a column of each type family 18.16 has, and chgate's
checker is asked about the same value for the same type.

- Every value chgate takes, ClickHouse takes: no row checked at the door
  fails in its batch later.
- Every value ClickHouse refuses, chgate refuses.
- chgate refuses more than ClickHouse only where ClickHouse would store
  something else than was sent (a number wrapped past its range, a day off the
  calendar, inf for a finite number): exactly the cases listed in STRICTER.
"""

import http.client
import json
import os
import subprocess
import unittest
import urllib.parse

from harness import IntegrationTest

CHECK_VALUE = os.environ.get("CHGATE_CHECK_VALUE", "")

TYPES = ["Int8", "UInt8", "Int64", "UInt64", "Float32", "Float64", "Decimal(9, 2)", "String",
         "FixedString(3)", "Date", "DateTime", "UUID", "Enum8('a' = 1, 'b' = 2)", "Nullable(Int32)",
         "Array(Int32)", "Array(Nullable(String))", "Tuple(Int32, String)"]

VALUES = ['0', '1', '-1', '-0', '127', '128', '-129', '256', '1.5', '1e2', '1e400', '-1.5', '"5"', '" 5"',
          '"-5"', '"abc"', '""', 'true', 'false', 'null', '[]', '[1]', '[1, "x"]', '{"a": 1}',
          '"2026-12-03"', '"2026-1-3"', '"2026/12/03"', '"2026-13-45"', '"2026-02-29"', '"2024-02-29"',
          '"1969-01-01"', '"20261203"', '"2026-12-03 10:00:00"', '"2026-12-03T10:00:00"',
          '"2026-12-03T10:00:00Z"', '"2026-12-03 25:00:00"', '1700000000', '"1700000000"',
          '4294967296', '"61f0c404-5cb3-11e7-907b-a6006ad3dba0"', '"61f0c4045cb311e7907ba6006ad3dba0"',
          '"a"', '"c"', '"ab"', '"abcd"', '"\\u00e9\\u00e9"', '"nan"', '"inf"',
          '18446744073709551615', '18446744073709551616', '-9223372036854775808',
          '9223372036854775808', '2147483648', '1.234', '1.50', '12345678.9', '1234567.89', '3.4e38',
          '1e39', '[null]', '[1.5]', '["1"]', '[null, "x"]', '[1, 2147483648]', '[1, "x", 2]']

# (type, value): ClickHouse 18.16 takes it, but stores something else than was
# sent; chgate refuses it at the door.
STRICTER = {
    ("Int8", "128"), ("Int8", "-129"), ("Int8", "256"), ("Int8", "1700000000"),
    ("Int8", "4294967296"), ("Int8", "18446744073709551615"), ("Int8", "18446744073709551616"),
    ("Int8", "-9223372036854775808"), ("Int8", "9223372036854775808"), ("Int8", "2147483648"),
    ("Int8", '"1700000000"'),
    ("UInt8", "256"), ("UInt8", "1700000000"), ("UInt8", "4294967296"),
    ("UInt8", "18446744073709551615"), ("UInt8", "18446744073709551616"),
    ("UInt8", "9223372036854775808"), ("UInt8", "2147483648"), ("UInt8", '"1700000000"'),
    ("Int64", "18446744073709551615"), ("Int64", "18446744073709551616"),
    ("Int64", "9223372036854775808"),
    ("UInt64", "18446744073709551616"),
    ("Float32", "1e400"), ("Float32", "1e39"), ("Float64", "1e400"),
    ("Date", '"2026-13-45"'), ("Date", '"2026-02-29"'), ("Date", '"1969-01-01"'),
    ("DateTime", '"2026-12-03 25:00:00"'), ("DateTime", "4294967296"),
    ("Nullable(Int32)", "4294967296"), ("Nullable(Int32)", "18446744073709551615"),
    ("Nullable(Int32)", "18446744073709551616"), ("Nullable(Int32)", "-9223372036854775808"),
    ("Nullable(Int32)", "9223372036854775808"), ("Nullable(Int32)", "2147483648"),
    ("Array(Int32)", "[1, 2147483648]"),
    # Text read in part, or empty, as a number: "2026-12-03" is 2026 (then
    # wrapped to 8 bits), "" is 0.
    ("Int8", '"2026-12-03"'), ("Int8", '"2026-1-3"'), ("Int8", '"2026-13-45"'), ("Int8", '"2026-02-29"'),
    ("Int8", '"2024-02-29"'), ("Int8", '"1969-01-01"'), ("Int8", '"20261203"'), ("Int8", '""'),
    ("UInt8", '"20261203"'), ("UInt8", '""'),
    ("Int64", '"2026-12-03"'), ("Int64", '"2026-1-3"'), ("Int64", '"2026-13-45"'),
    ("Int64", '"2026-02-29"'), ("Int64", '"2024-02-29"'), ("Int64", '"1969-01-01"'), ("Int64", '""'),
    ("UInt64", '""'),
    ("Nullable(Int32)", '"2026-12-03"'), ("Nullable(Int32)", '"2026-1-3"'),
    ("Nullable(Int32)", '"2026-13-45"'), ("Nullable(Int32)", '"2026-02-29"'),
    ("Nullable(Int32)", '"2024-02-29"'), ("Nullable(Int32)", '"1969-01-01"'), ("Nullable(Int32)", '""'),
    ("Float32", '""'), ("Float64", '""'),
    # A Date from ten digits of text.
    ("Date", '"1700000000"'),
    # Unix times below 0 or past 2^32-1, wrapped.
    ("DateTime", "-0"), ("DateTime", "-1"), ("DateTime", "-129"), ("DateTime", "-9223372036854775808"),
    ("DateTime", "18446744073709551615"), ("DateTime", "18446744073709551616"),
    ("DateTime", "9223372036854775808"),
}


class RowCheckTest(IntegrationTest):

    @classmethod
    def setUpClass(cls):
        if not CHECK_VALUE:
            raise unittest.SkipTest("run through ctest: it sets CHGATE_CHECK_VALUE")
        super().setUpClass()

    def clickhouse_takes(self, table, value):
        query = urllib.parse.urlencode({"query": f"INSERT INTO `{self.db}`.`{table}` FORMAT JSONEachRow"})
        conn = http.client.HTTPConnection("127.0.0.1", self.ch.port, timeout=30)
        try:
            conn.request("POST", "/?" + query, body=('{"v": ' + value + "}\n").encode())
            resp = conn.getresponse()
            body = resp.read().decode(errors="replace")
        finally:
            conn.close()
        return resp.status == 200, body.split("\n")[0][:160]

    def chgate_takes(self, column_type, values):
        out = subprocess.run([CHECK_VALUE, column_type], input="".join(v + "\n" for v in values),
                             capture_output=True, text=True, check=True)
        return [line == "ok" for line in out.stdout.splitlines()], out.stdout.splitlines()

    def test_chgate_takes_what_clickhouse_takes_and_stores_as_sent(self):
        false_accepts, stricter = [], set()
        for i, column_type in enumerate(TYPES):
            table = f"t{i}"
            self.ch.query(f"CREATE TABLE `{self.db}`.`{table}` (v {column_type}) ENGINE = Memory")
            verdicts, reasons = self.chgate_takes(column_type, VALUES)
            for value, ours, reason in zip(VALUES, verdicts, reasons):
                theirs, error = self.clickhouse_takes(table, value)
                if ours and not theirs:
                    false_accepts.append((column_type, value, error))
                elif theirs and not ours:
                    stricter.add((column_type, value))
        self.maxDiff = None
        self.assertEqual(false_accepts, [], "chgate takes values ClickHouse refuses")
        self.assertEqual(sorted(stricter - STRICTER), [],
                         "chgate refuses values ClickHouse stores as sent")
        self.assertEqual(sorted(STRICTER - stricter), [],
                         "listed as stricter, but ClickHouse refuses them too now (or chgate takes them)")


if __name__ == "__main__":
    unittest.main()
