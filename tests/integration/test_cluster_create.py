"""A table declared with create: that chgate finds missing on a cluster is
created ON CLUSTER: a sharded table's local_table appears on every server,
and the rows land on their shards."""

import json

import cluster
import harness
from harness import wait_until


class CreateOnClusterTest(cluster.ClusterTest):
    DB_PREFIX = "it_create"

    def test_a_declared_local_table_is_created_on_every_server(self):
        create = {"columns": {"id": "UInt64", "note": "String"},
                  "engine": f"ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{self.db}/events_local', "
                            f"'{{replica}}')",
                  "order_by": "id"}
        cfg = json.loads(self.chgate_config(
            {"events": {"strategy": "immediate", "shard_by": "cityHash64(id)", "local_table": "events_local",
                        "create": create}},
            weights=[1, 1]))
        cfg["clickhouse"]["cluster"]["name"] = "chgate_cluster"
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
