"""kill -9 of chgate under durable load into ReplicatedMergeTree shards,
through a Distributed table (distributed: true) or straight into each shard's
table (shard_by, one log per shard): every acknowledged event lands, and none
twice. A batch sent again after the restart is the same batch, byte for byte,
so each shard's replicated table drops the repeat of its block."""

import signal
import tempfile
import unittest

import cluster
import harness


class ClusterCrashTest(cluster.ClusterTest):
    DB_PREFIX = "it_crash"

    def setUp(self):
        super().setUp()
        self.sharded_table("t", "id String, n UInt32", "cityHash64(id)", order_by="id")

    def start(self, storage, sharding):
        tables = {"t_all": {**sharding, "strategy": "hybrid", "max_batch_size": 500,
                            "max_batch_time": "300ms", "ack": "durable"}}
        weights = [1, 1] if "shard_by" in sharding else None
        return harness.Chgate(self.chgate_config(tables, storage=storage, weights=weights))

    def test_kill_9_under_durable_load_loses_nothing_and_duplicates_nothing(self):
        self.kill_under_load({"distributed": True})

    def test_kill_9_with_shard_by_loses_nothing_and_duplicates_nothing(self):
        self.kill_under_load({"shard_by": "cityHash64(id)", "local_table": "t"})

    def kill_under_load(self, sharding):
        storage = tempfile.mkdtemp(prefix="chgate-it-storage-")
        g = self.start(storage, sharding)
        load = harness.Loader(g.port, "t_all")
        load.start()
        harness.wait_until(lambda: len(load.acked) >= 3000, 60, message="load")
        g.proc.send_signal(signal.SIGKILL)  # batches in memory, in flight and in the log
        g.proc.wait()
        load.join()
        g.__exit__(None, None, None)
        acked = set(load.acked)

        with self.start(storage, sharding) as g2:
            harness.wait_until(lambda: acked <= set(self.landed("t")), 90,
                               message="every acknowledged event on the shards")
            # Replication and replays settle: then count.
            harness.wait_until(lambda: g2.metrics()["batching"]["queued_items"] == 0, 30,
                               message="nothing left to send")
            landed = self.landed("t")
            duplicates = len(landed) - len(set(landed))
            replayed = g2.metrics()["storage"]["replay"]["rows"]
            print(f"\ncluster crash test ({', '.join(sharding)}): {len(acked)} acknowledged, all on the shards; "
                  f"{replayed} rows replayed from the log; {duplicates} duplicates; "
                  f"{len(set(landed) - acked)} of {len(load.unanswered)} unanswered events landed too")
            self.assertGreater(replayed, 0, "the kill left nothing to replay: the test tested nothing")
            self.assertTrue(set(landed) <= acked | load.unanswered, "rows nobody sent")
            self.assertEqual(duplicates, 0)


if __name__ == "__main__":
    unittest.main()
