"""ZooKeeper stopped under load: the replicated tables behind the Distributed
table turn read-only (Code 242) or lose their session, chgate holds the
committed answers and retries, and once ZooKeeper is back every row lands,
once."""

import os
import subprocess
import threading
import unittest

import cluster
import harness


def cluster_command(command):
    subprocess.run([os.path.join(harness.SOURCE_DIR, "deploy", "cluster.sh"), command,
                    cluster.CLUSTER_DIR], check=True, capture_output=True)


class ClusterZooKeeperTest(cluster.ClusterTest):
    DB_PREFIX = "it_zk"

    def setUp(self):
        super().setUp()
        self.sharded_table("t", "id UInt64, key String", "cityHash64(key)", order_by="id")

    def drop(self):
        # Tables of a replicated engine need ZooKeeper to be dropped.
        cluster_command("start-zookeeper")
        for server in self.servers:
            harness.wait_until(lambda: self._try_drop(server), 60, interval=0.5,
                               message="the test database to drop")

    def _try_drop(self, server):
        try:
            server.query(f"DROP DATABASE IF EXISTS `{self.db}`")
            return True
        except RuntimeError:
            return False

    def ids(self):
        return [int(i) for i in self.landed("t")]

    def test_zookeeper_stopped_holds_committed_answers_and_loses_nothing(self):
        tables = {"t_all": {"distributed": True, "strategy": "immediate", "ack": "committed"}}
        config = self.chgate_config(tables, server={"commit_timeout": "3s"},
                                    retry={"initial": "200ms", "max": "1s"})
        with harness.Chgate(config) as gate:
            first = gate.post_events("t_all", [{"id": i, "key": f"k{i}"} for i in range(50)])
            self.assertEqual(first.status, 200, first)
            cluster_command("stop-zookeeper")
            answers = []

            def post(start):
                answers.append(gate.post_events(
                    "t_all", [{"id": i, "key": f"k{i}"} for i in range(start, start + 50)], timeout=60))

            posts = [threading.Thread(target=post, args=(50 + 50 * n,)) for n in range(4)]
            for p in posts:
                p.start()
            for p in posts:
                p.join()
            # Not one of them is told "committed" while the shards cannot write.
            self.assertEqual(sorted(a.status for a in answers), [504] * 4, answers)
            cluster_command("start-zookeeper")
            harness.wait_until(lambda: len(set(self.ids())) == 250, 120, interval=0.5,
                               message="every row on the shards once ZooKeeper is back")
            harness.wait_until(lambda: gate.metrics()["batching"]["queued_items"] == 0, 30,
                               message="nothing left to send")
            landed = self.ids()
            self.assertEqual((len(landed), len(set(landed))), (250, 250), "once each")


if __name__ == "__main__":
    unittest.main()
