"""ZooKeeper stopped under load: the replicated tables behind the Distributed
table turn read-only (Code 242) or lose their session, chgate holds the
committed answers and retries, and once ZooKeeper is back every row lands,
once."""

import json
import os
import subprocess
import threading
import unittest
import uuid

import harness
from test_cluster_placement import CLUSTER_DIR, cluster_shards


def cluster(command):
    subprocess.run([os.path.join(harness.SOURCE_DIR, "deploy", "cluster.sh"), command, CLUSTER_DIR],
                   check=True, capture_output=True)


class ClusterZooKeeperTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (CLUSTER_DIR and harness.CHGATE_BIN):
            raise unittest.SkipTest("run through ctest: the cluster fixture sets CHGATE_TEST_CLUSTER_DIR")
        cls.shards = cluster_shards()
        cls.servers = [server for shard in cls.shards for server in shard]

    def setUp(self):
        self.db = f"it_zk_{uuid.uuid4().hex[:8]}"
        for server in self.servers:
            server.query(f"CREATE DATABASE `{self.db}`")
            server.query(
                f"CREATE TABLE `{self.db}`.t (id UInt64, key String) ENGINE = ReplicatedMergeTree("
                f"'/clickhouse/tables/{{shard}}/{self.db}/t', '{{replica}}') ORDER BY id")
            server.query(f"CREATE TABLE `{self.db}`.t_all AS `{self.db}`.t "
                         f"ENGINE = Distributed(chgate_cluster, `{self.db}`, t, cityHash64(key))")
        self.addCleanup(self.drop)

    def drop(self):
        # Tables of a replicated engine need ZooKeeper to be dropped.
        cluster("start-zookeeper")
        for server in self.servers:
            harness.wait_until(lambda: self._try_drop(server), 60, interval=0.5,
                               message="the test database to drop")

    def _try_drop(self, server):
        try:
            server.query(f"DROP DATABASE IF EXISTS `{self.db}`")
            return True
        except RuntimeError:
            return False

    def landed(self):
        ids = []
        for shard in self.shards:
            ids += max(([int(r["id"]) for r in replica.rows(f"SELECT id FROM `{self.db}`.t")]
                        for replica in shard), key=len)
        return ids

    def test_zookeeper_stopped_holds_committed_answers_and_loses_nothing(self):
        urls = [s.url for s in self.servers]
        tables = {"t_all": {"distributed": True, "strategy": "immediate", "ack": "committed"}}
        cfg = json.loads(harness.make_config(self.db, tables, urls[0], server={"commit_timeout": "3s"}))
        del cfg["clickhouse"]["url"]
        cfg["clickhouse"].update({"urls": urls, "retry": {"initial": "200ms", "max": "1s"}})
        with harness.Chgate(json.dumps(cfg)) as gate:
            first = gate.post_events("t_all", [{"id": i, "key": f"k{i}"} for i in range(50)])
            self.assertEqual(first.status, 200, first)
            cluster("stop-zookeeper")
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
            cluster("start-zookeeper")
            harness.wait_until(lambda: len(set(self.landed())) == 250, 120, interval=0.5,
                               message="every row on the shards once ZooKeeper is back")
            harness.wait_until(lambda: gate.metrics()["batching"]["queued_items"] == 0, 30,
                               message="nothing left to send")
            landed = self.landed()
            self.assertEqual((len(landed), len(set(landed))), (250, 250), "once each")


if __name__ == "__main__":
    unittest.main()
