"""A table declared with create: that chgate finds missing on a cluster is
created ON CLUSTER: a sharded table's local_table appears on every server,
and the rows land on their shards. With schema_evolution, a new field
becomes a column ON CLUSTER, of the local tables and of the Distributed one."""

import json

import cluster
import harness
from harness import wait_until


class CreateOnClusterTest(cluster.ClusterTest):
    DB_PREFIX = "it_create"

    def test_a_declared_local_table_is_created_on_every_server_and_grows_columns(self):
        create = {"columns": {"id": "UInt64", "note": "String"},
                  "engine": f"ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{self.db}/events_local', "
                            f"'{{replica}}')",
                  "order_by": "id"}
        cfg = json.loads(self.chgate_config(
            {"events": {"strategy": "immediate", "shard_by": "cityHash64(id)", "local_table": "events_local",
                        "create": create, "schema_evolution": "add_columns"}},
            weights=[1, 1]))
        cfg["clickhouse"]["cluster"]["name"] = "chgate_cluster"
        # The clients' view: a Distributed table on every server.
        for server in self.servers:
            server.query(f"CREATE TABLE `{self.db}`.events (id UInt64, note String) ENGINE = "
                         f"Distributed(chgate_cluster, `{self.db}`, events_local, cityHash64(id))")
        with harness.Chgate(json.dumps(cfg)) as g:
            wait_until(lambda: g.request("GET", "/v1/tables/events").json()["schema"]["state"] == "known",
                       60, message="the local table to be created and read")
            for server in self.servers:
                self.assertEqual(server.query(f"EXISTS TABLE `{self.db}`.events_local").strip(), "1")
            r = g.post_events("events", [{"id": i, "note": "n"} for i in range(20)])
            self.assertEqual(r.status, 202, r)
            wait_until(lambda: sorted(map(int, self.landed("events_local"))) == list(range(20)), 30,
                       message="the rows on their shards")
            held = self.held_by_shard("events_local", "id")
            self.assertTrue(all(held), held)  # both shards got rows
            self.assertIn(f"schema: created {self.db}.events_local", g.log())
            # A new field: the column is added ON CLUSTER to the local tables
            # (and the Distributed one), and the events wait for it.
            r = g.request("POST", "/v1/events/events?ack=committed",
                          json.dumps([{"id": 100 + i, "note": "n", "colour": f"c{i}"} for i in range(10)]))
            self.assertEqual(r.status, 200, r)
            for server in self.servers:
                for table in ("events_local", "events"):
                    self.assertEqual(server.query(
                        f"SELECT type FROM system.columns WHERE database = '{self.db}' AND table = '{table}' "
                        f"AND name = 'colour'").strip(), "Nullable(String)", (server.url, table))
            self.assertEqual(sorted(self.landed("events_local", "colour"), key=str),
                             sorted([None] * 20 + [f"c{i}" for i in range(10)], key=str))
            # Through the Distributed table too (a replica may still be fetching).
            wait_until(lambda: self.shards[0][0].query(
                f"SELECT count() FROM `{self.db}`.events WHERE colour != ''").strip() == "10", 30,
                message="the new column's values through the Distributed table")
            self.assertEqual(g.metrics()["tables"]["events"]["columns_added"], 1)
