"""shard_by on a real 2 x 2 cluster: chgate inserts each shard's rows into its
local ReplicatedMergeTree table itself, one buffer and one log per shard.

- A whole shard down: its rows are held, retried and spooled, while the other
  shard keeps landing its own; once the shard is back, everything arrives,
  once.
- clickhouse.cluster.discover: the listed shards are checked against
  system.clusters, and a difference is logged and shown in /metrics.
- kill -9 of one replica under load: inserts go to the other replica of its
  shard, and nothing is lost or duplicated. (What the victim committed just
  before it died, and its peer had not fetched yet, is back once the victim
  is: ClickHouse's insert_quorum is what makes a commit wait for two.)"""

import os
import signal
import tempfile

import cluster
import harness


class ClusterShardsTest(cluster.ClusterTest):
    DB_PREFIX = "it_shards"

    def setUp(self):
        super().setUp()
        self.sharded_table("events", "id UInt64, k String", "cityHash64(k)", order_by="id")

    def config(self, storage, **table):
        tables = {"events_all": {"shard_by": "cityHash64(k)", "local_table": "events",
                                 "ack": "durable", "max_batch_time": "100ms", **table}}
        return self.chgate_config(tables, storage=storage, weights=[1, 1], probe_interval="200ms",
                                  retry={"initial": "100ms", "max": "300ms"},
                                  circuit_breaker={"failures": 2, "cooldown": "500ms"})

    def ids_on(self, i, dups=None):
        """The ids shard `i` (from 0) holds, on either replica; adds to
        dups[0] how many ids a replica holds twice."""
        ids = set()
        for replica in self.shards[i]:
            got = [int(r["id"]) for r in replica.rows(f"SELECT id FROM `{self.db}`.events")]
            if dups is not None:
                dups[0] += len(got) - len(set(got))
            ids.update(got)
        return ids

    def per_shard(self):
        """The ids each shard holds, and how many ids a replica holds twice."""
        dups = [0]
        return [self.ids_on(i, dups) for i in range(len(self.shards))], dups[0]

    def post(self, gate, first, count):
        for start in range(first, first + count, 50):
            rows = [{"id": i, "k": f"user-{i}"} for i in range(start, start + 50)]
            r = gate.post_events("events_all", rows)
            self.assertEqual(r.status, 202, r)

    def test_a_whole_shard_down_holds_its_rows_while_the_other_lands(self):
        down = cluster.replicas_of_shard(1)
        for path in down:
            cluster.stop_server(path)
            self.addCleanup(cluster.start_server, path)  # if the test fails before it does
        storage = tempfile.mkdtemp(prefix="chgate-it-storage-")
        with harness.Chgate(self.config(storage, retry_attempts=1)) as gate:
            self.post(gate, 0, 1000)

            def shard(i):
                return gate.metrics()["tables"]["events_all"]["shards"][i]

            first = shard(0)["rows_accepted"]
            self.assertGreater(first, 0)
            self.assertGreater(shard(1)["rows_accepted"], 0)
            harness.wait_until(lambda: len(self.ids_on(0)) == first, 30,
                               message="shard 1 lands its rows while shard 2 is down")
            # Shard 2's batches fail, are retried, then go to the spool.
            harness.wait_until(lambda: shard(1)["rows_spooled"] > 0, 30, message="shard 2 spools")
            self.assertEqual(shard(1)["rows_inserted"], 0)
            self.assertGreater(shard(1)["failed_attempts"], 0)
            ready = gate.request("GET", "/readyz").json()
            self.assertEqual([s["reachable"] for s in ready["clickhouse"]["shards"]], [True, False])

            # The shard that works goes on taking new rows meanwhile.
            self.post(gate, 1000, 500)
            more = shard(0)["rows_accepted"]
            harness.wait_until(lambda: len(self.ids_on(0)) == more, 30,
                               message="shard 1 keeps landing rows")

            for path in down:
                cluster.start_server(path)
            harness.wait_until(lambda: sum(len(h) for h in self.per_shard()[0]) == 1500, 90,
                               message="shard 2's rows arrive once it is back")
            held, dups = self.per_shard()
            self.assertEqual(held[0] | held[1], set(range(1500)))
            self.assertEqual(held[0] & held[1], set())
            self.assertEqual(dups, 0)
            print(f"\nshard down: {more} rows landed on shard 1 while shard 2 was down; "
                  f"{shard(1)['rows_spooled']} of shard 2's rows spooled, then all "
                  f"{len(held[1])} landed; {dups} duplicates")

    def test_kill_9_of_a_replica_under_load_fails_over_within_its_shard(self):
        self.sharded_table("t", "id String, n UInt32", "cityHash64(id)", order_by="id")
        victim = cluster.replicas_of_shard(0)[0]
        storage = tempfile.mkdtemp(prefix="chgate-it-storage-")
        tables = {"t_all": {"shard_by": "cityHash64(id)", "local_table": "t", "ack": "durable",
                            "max_batch_size": 200, "max_batch_time": "100ms"}}
        config = self.chgate_config(tables, storage=storage, weights=[1, 1], probe_interval="200ms",
                                    retry={"initial": "100ms", "max": "300ms"})
        with harness.Chgate(config) as gate:
            load = harness.Loader(gate.port, "t_all", threads=4)
            load.start()
            harness.wait_until(lambda: len(load.acked) >= 2000, 60, message="load")
            with open(os.path.join(victim, "pid")) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
            self.addCleanup(cluster.start_server, victim)
            killed_at = len(load.acked)
            harness.wait_until(lambda: len(load.acked) >= killed_at + 3000, 60,
                               message="load goes on with a replica of shard 1 dead")
            load.join()
            acked = set(load.acked)
            harness.wait_until(lambda: gate.metrics()["batching"]["queued_items"] == 0, 30,
                               message="nothing left to send")
            # A part the victim committed just before the kill, and its peer
            # had not fetched yet, is on the victim's disk: back with it.
            cluster.start_server(victim)
            harness.wait_until(lambda: acked <= set(self.landed("t")), 60,
                               message="every acknowledged event on the shards")
            landed = self.landed("t")
            duplicates = len(landed) - len(set(landed))
            self.assertTrue(set(landed) <= acked | load.unanswered, "rows nobody sent")
            self.assertEqual(duplicates, 0)
            print(f"\nreplica failover: {len(acked)} acknowledged ({len(acked) - killed_at} after "
                  f"the kill), all on their shards; {duplicates} duplicates")


class ClusterDiscoverTest(cluster.ClusterTest):
    DB_PREFIX = "it_discover"

    def check(self, name, weights):
        """What chgate's check of `weights` against cluster `name` found."""
        config = self.chgate_config({}, weights=weights, discover=name)
        with harness.Chgate(config) as gate:
            harness.wait_until(lambda: gate.metrics()["clickhouse"]["cluster"]["checked"], 10,
                               message="the first check")
            return gate.metrics()["clickhouse"]["cluster"], gate.log()

    def test_discover_checks_the_shards_against_system_clusters(self):
        found, log = self.check("chgate_cluster", [1, 1])
        self.assertTrue(found["matches"], found)
        self.assertEqual(found["differences"], [])
        self.assertIn("the shards match cluster chgate_cluster in system.clusters", log)

        found, log = self.check("chgate_weighted", [1, 1])
        self.assertFalse(found["matches"])
        self.assertEqual(found["differences"], ["shard 1: weight 1 here, 2 in system.clusters"])
        self.assertIn("rows with shard_by may land on other shards", log)

        found, _ = self.check("no_such_cluster", [1, 1])
        self.assertEqual(found["differences"], ["system.clusters has no such cluster"])
