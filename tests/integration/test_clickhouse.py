"""How chgate talks to ClickHouse: credentials, settings, compression, and
tables served with the defaults."""

import unittest

from harness import Chgate, IntegrationTest, make_config, wait_until

COLUMNS = "id UInt32, ts DateTime, note String"


def rows(n, note):
    return [{"id": i, "ts": "2026-11-21T10:30:15Z", "note": note} for i in range(n)]


class ClickHouseTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS, "gz": COLUMNS, "zs": COLUMNS, "raw": COLUMNS, "anything": COLUMNS}
    FAST = {"strategy": "hybrid", "max_batch_time": "200ms"}

    def gate(self, tables, **clickhouse):
        cfg = make_config(self.db, tables, self.ch.url, self.storage_dir(), clickhouse=clickhouse)
        g = Chgate(cfg)
        self.addCleanup(self.assert_no_sanitizer_report, g)
        self.addCleanup(g.__exit__)
        return g

    def test_credentials_go_in_headers(self):
        g = self.gate({"t": self.FAST}, user="chgate_test", password="chgate_test_password")
        self.assertEqual(g.request("GET", "/readyz").status, 200)
        self.assertEqual(g.post_events("t", rows(3, "auth")).status, 202)
        self.wait_for_count("t", 3)

    def test_a_wrong_password_shows_in_readyz(self):
        g = self.gate({"t": self.FAST}, user="chgate_test", password="wrong")
        r = g.request("GET", "/readyz")
        self.assertEqual(r.status, 503)
        self.assertIn("Wrong password", r.json()["reason"])

    def test_settings_are_sent_and_unknown_ones_left_out(self):
        # Without date_time_input_format=best_effort, 18.16 cannot parse "…T…Z".
        g = self.gate({"t": self.FAST},
                      settings={"date_time_input_format": "best_effort", "no_such_setting": 1})
        wait_until(lambda: "clickhouse.settings.no_such_setting is not a setting" in g.log(), 5,
                   message="the warning about the unknown setting")
        self.assertEqual(g.post_events("t", rows(2, "settings")).status, 202)
        self.wait_for_count("t", 2)
        got = self.ch.rows(f"SELECT toString(ts) AS ts FROM `{self.db}`.t")
        self.assertEqual(got[0]["ts"][:10], "2026-11-21")

    def test_each_compression_lands_rows(self):
        g = self.gate({"gz": dict(self.FAST, compression="gzip"),
                       "zs": dict(self.FAST, compression="zstd"),
                       "raw": dict(self.FAST, compression="none")})
        for table in ("gz", "zs", "raw"):
            self.assertEqual(g.post_events(table, rows(200, "x" * 50)).status, 202)
        for table in ("gz", "zs", "raw"):
            self.wait_for_count(table, 200)
        m = g.metrics()["tables"]
        self.assertEqual(m["raw"]["bytes_sent"], m["raw"]["bytes_inserted"])
        self.assertLess(m["gz"]["bytes_sent"], m["gz"]["bytes_inserted"] / 5)
        # 18.16 refuses zstd bodies, so chgate sent gzip and nothing failed.
        self.assertLess(m["zs"]["bytes_sent"], m["zs"]["bytes_inserted"] / 5)
        self.assertEqual(m["zs"]["failed_batches"], 0)

    def test_unknown_tables_can_be_served_with_the_defaults(self):
        g = self.start({}, batching={"unknown_tables": "defaults",
                                     "defaults": {"strategy": "hybrid", "max_batch_time": "200ms"}})
        self.assertEqual(g.post_events("anything", rows(4, "dynamic")).status, 202)
        self.wait_for_count("anything", 4)
        self.assertEqual(g.metrics()["tables"]["anything"]["strategy"], "hybrid")
        self.assertIn("is not configured; serving it with the defaults", g.log())


if __name__ == "__main__":
    unittest.main()
