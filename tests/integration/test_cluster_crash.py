"""kill -9 of chgate under durable load, writing through a Distributed table
into ReplicatedMergeTree shards (distributed: true): every acknowledged event
lands, and none twice. A batch sent again after the restart is the same
batch, byte for byte, so each shard's replicated table drops the repeat of
its block."""

import json
import os
import signal
import tempfile
import unittest
import uuid

import harness
from test_cluster_placement import CLUSTER_DIR, cluster_shards


class ClusterCrashTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (CLUSTER_DIR and harness.CHGATE_BIN):
            raise unittest.SkipTest("run through ctest: the cluster fixture sets CHGATE_TEST_CLUSTER_DIR")
        cls.shards = cluster_shards()
        cls.servers = [server for shard in cls.shards for server in shard]

    def setUp(self):
        self.db = f"it_crash_{uuid.uuid4().hex[:8]}"
        for server in self.servers:
            server.query(f"CREATE DATABASE `{self.db}`")
            server.query(
                f"CREATE TABLE `{self.db}`.t (id String, n UInt32) ENGINE = ReplicatedMergeTree("
                f"'/clickhouse/tables/{{shard}}/{self.db}/t', '{{replica}}') ORDER BY id")
            server.query(f"CREATE TABLE `{self.db}`.t_all AS `{self.db}`.t "
                         f"ENGINE = Distributed(chgate_cluster, `{self.db}`, t, cityHash64(id))")
        self.addCleanup(self.drop)

    def drop(self):
        for server in self.servers:
            server.query(f"DROP DATABASE IF EXISTS `{self.db}`")

    def start(self, storage):
        urls = [s.url for s in self.servers]
        tables = {"t_all": {"distributed": True, "strategy": "hybrid", "max_batch_size": 500,
                            "max_batch_time": "300ms", "ack": "durable"}}
        cfg = json.loads(harness.make_config(self.db, tables, urls[0], storage))
        del cfg["clickhouse"]["url"]
        cfg["clickhouse"]["urls"] = urls
        return harness.Chgate(json.dumps(cfg))

    def landed(self):
        """Every id on the shards, with repeats: per shard, the replica that
        holds the most (the other may still be fetching)."""
        ids = []
        for shard in self.shards:
            ids += max(([r["id"] for r in replica.rows(f"SELECT id FROM `{self.db}`.t")]
                        for replica in shard), key=len)
        return ids

    def test_kill_9_under_durable_load_loses_nothing_and_duplicates_nothing(self):
        storage = tempfile.mkdtemp(prefix="chgate-it-storage-")
        g = self.start(storage)
        load = harness.Loader(g.port, "t_all")
        load.start()
        harness.wait_until(lambda: len(load.acked) >= 3000, 60, message="load")
        g.proc.send_signal(signal.SIGKILL)  # batches in memory, in flight and in the log
        g.proc.wait()
        load.join()
        g.__exit__(None, None, None)
        acked = set(load.acked)

        with self.start(storage) as g2:
            harness.wait_until(lambda: acked <= set(self.landed()), 90,
                               message="every acknowledged event on the shards")
            # Replication and replays settle: then count.
            harness.wait_until(lambda: g2.metrics()["batching"]["queued_items"] == 0, 30,
                               message="nothing left to send")
            landed = self.landed()
            duplicates = len(landed) - len(set(landed))
            replayed = g2.metrics()["storage"]["replay"]["rows"]
            print(f"\ncluster crash test: {len(acked)} acknowledged, all on the shards; "
                  f"{replayed} rows replayed from the log; {duplicates} duplicates; "
                  f"{len(set(landed) - acked)} of {len(load.unanswered)} unanswered events landed too")
            self.assertGreater(replayed, 0, "the kill left nothing to replay: the test tested nothing")
            self.assertTrue(set(landed) <= acked | load.unanswered, "rows nobody sent")
            self.assertEqual(duplicates, 0)


if __name__ == "__main__":
    unittest.main()
