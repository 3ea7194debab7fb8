"""distributed: true on a real 2 x 2 cluster: chgate inserts through a
Distributed table with insert_distributed_sync=1, so a committed answer means
every shard has the rows, and a shard that is down means no committed answer
(ClickHouse alone would queue the rows and answer 200)."""

import unittest

import cluster
import harness


class ClusterDistributedTest(cluster.ClusterTest):
    DB_PREFIX = "it_distributed"

    def setUp(self):
        super().setUp()
        self.sharded_table("events", "id UInt64, key String", "cityHash64(key)", order_by="id")

    def config(self, **server):
        tables = {"events_all": {"distributed": True, "ack": "committed", "strategy": "immediate"}}
        return self.chgate_config(tables, server=server)

    def per_shard(self):
        """The rows each shard holds, by id: those of either replica (an INSERT
        goes to one of them; the other fetches it a moment later), and how many
        ids a replica holds twice."""
        counts, dups = [], 0
        for shard in self.shards:
            ids = set()
            for replica in shard:
                got = [int(r["id"]) for r in replica.rows(f"SELECT id FROM `{self.db}`.events")]
                dups += len(got) - len(set(got))
                ids.update(got)
            counts.append(len(ids))
        return counts, dups

    def test_a_committed_answer_means_every_shard_has_the_rows(self):
        with harness.Chgate(self.config()) as gate:
            total = 0
            for request in range(10):
                rows = [{"id": total + i, "key": f"user-{request}-{i}"} for i in range(50)]
                r = gate.post_events("events_all", rows)
                self.assertEqual(r.status, 200, r)
                total += len(rows)
                counts, dups = self.per_shard()
                # Right after the answer, not eventually: the shards have them.
                self.assertEqual(sum(counts), total, counts)
                self.assertEqual(dups, 0)
            self.assertTrue(all(c > 0 for c in counts), counts)
            self.assertIn("insert_distributed_sync yes", gate.log())

    def test_a_shard_down_gets_no_committed_answer_and_its_rows_arrive_later(self):
        down = cluster.replicas_of_shard(1)
        for path in down:
            cluster.stop_server(path)
            self.addCleanup(cluster.start_server, path)  # if the test fails before it does
        with harness.Chgate(self.config(commit_timeout="2s")) as gate:
            rows = [{"id": i, "key": f"k{i}"} for i in range(40)]
            r = gate.post_events("events_all", rows, timeout=60)
            # ClickHouse alone would have queued the rows for shard 2 and answered 200.
            self.assertEqual(r.status, 504, r)
            self.assertEqual(r.json().get("accepted"), 40, r)
            for path in down:
                cluster.start_server(path)
            harness.wait_until(lambda: sum(self.per_shard()[0]) == 40, 90,
                               message="the rows to reach both shards")
            counts, dups = self.per_shard()
            self.assertEqual((sum(counts), dups), (40, 0), counts)


if __name__ == "__main__":
    unittest.main()
