"""The cluster example as deploy/run.sh --cluster sets it up: the example
tables turned into replicated shards and Distributed tables by
deploy/cluster-sql.py, and chgate with config/examples/cluster.yaml (two
tables with shard_by, two with distributed: true). Events sent to every
example table land on the shards, with a committed answer meaning they are
there, and the sharded tables' rows where their Distributed table would put
them."""

import os
import re
import subprocess
import tempfile
import unittest

import cluster
import harness


class ClusterExampleTest(cluster.ClusterTest):
    DB_PREFIX = "it_example"

    def setUp(self):
        super().setUp()
        sql = subprocess.run(
            ["python3", os.path.join(harness.SOURCE_DIR, "deploy", "cluster-sql.py"),
             os.path.join(harness.SOURCE_DIR, "deploy", "sql", "chgate.sql"), self.db,
             "--shard-key", "events=cityHash64(user_id)", "--shard-key", "payments=cityHash64(user_id)"],
            check=True, capture_output=True, text=True).stdout
        path = os.path.join(tempfile.mkdtemp(prefix="chgate-it-sql-"), "tables.sql")
        with open(path, "w") as f:
            f.write(sql)
        for server in self.servers:
            subprocess.run([os.path.join(harness.SOURCE_DIR, "deploy", "apply-sql.sh"), server.url, path],
                           check=True, capture_output=True)

    def config(self):
        """config/examples/cluster.yaml, pointed at the test cluster and database."""
        with open(os.path.join(harness.SOURCE_DIR, "config", "examples", "cluster.yaml")) as f:
            text = f.read()
        for i, server in enumerate(self.servers):
            text, n = re.subn(f"http://127.0.0.1:{8123 + i}", server.url, text)
            self.assertEqual(n, 1)
        text, n = re.subn(r"database: default", f"database: {self.db}", text)
        self.assertEqual(n, 1)
        return text

    def on_shards(self, table):
        """The rows of `table`_local on the shards (the fuller replica of each)."""
        return sum(max(int(r.query(f"SELECT count() FROM `{self.db}`.{table}_local")) for r in shard)
                   for shard in self.shards)

    def test_events_to_every_example_table_land_on_the_shards(self):
        env = {"CHGATE_LISTEN": "127.0.0.1:0",
               "CHGATE_STORAGE_DIR": tempfile.mkdtemp(prefix="chgate-it-storage-")}
        with harness.Chgate(self.config(), env=env) as gate:
            payments = [{"payment_id": f"p{i}", "user_id": i, "amount": 9.5, "currency": "EUR",
                         "status": "ok", "created_at": "2026-12-03T07:00:00Z"} for i in range(20)]
            r = gate.post_events("payments", payments)  # the example's ack: committed
            self.assertEqual(r.status, 200, r)
            self.assertEqual(self.on_shards("payments"), 20)  # there when the answer came
            events = [{"event_id": f"e{i}", "user_id": i, "event_type": "view",
                       "event_timestamp": "2026-12-03 07:00:00"} for i in range(30)]
            r = gate.post_events("events", events)
            self.assertEqual(r.status, 202, r)
            r = gate.post_events("mthreads", [{"thread_id": "t", "campaign_id": "c", "channel": "mail",
                                               "ts": "2026-12-03 07:00:00", "opens": 1, "clicks": 0}])
            self.assertEqual(r.status, 202, r)
            r = gate.post_events("mstore", [{"id": "m", "ts": "2026-12-03 07:00:00", "kind": "k",
                                             "payload": "{}"}])
            self.assertEqual(r.status, 202, r)
            harness.wait_until(lambda: (self.on_shards("events"), self.on_shards("mthreads"),
                                        self.on_shards("mstore")) == (30, 1, 1), 30,
                               message="the buffered tables' rows on the shards")
            # The MATERIALIZED column is computed on the shards.
            dates = {r.query(f"SELECT DISTINCT event_date FROM `{self.db}`.events_local").strip()
                     for shard in self.shards for r in shard} - {""}
            self.assertEqual(dates, {"2026-12-03"})
            self.assertEqual(gate.metrics()["storage"]["dead_letters"]["rows"], 0)
            # shard_by places rows as the Distributed table's key does: a row
            # read through it is on the shard its key picks.
            for table in ("events", "payments"):
                shards = gate.metrics()["tables"][table]["shards"]
                self.assertTrue(all(s["rows_inserted"] > 0 for s in shards), shards)
                for i, shard in enumerate(self.shards):
                    wrong = shard[0].query(
                        f"SELECT count() FROM `{self.db}`.{table}_local "
                        f"WHERE cityHash64(user_id) % 2 != {i}").strip()
                    self.assertEqual(wrong, "0", f"{table}: rows on shard {i + 1} that belong elsewhere")


if __name__ == "__main__":
    unittest.main()
