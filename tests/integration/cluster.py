"""Helpers for the tests that use the shared cluster (the "cluster" ctest
fixture: deploy/cluster.sh, ZooKeeper and 2 shards x 2 replicas)."""

import json
import os
import unittest
import uuid

import harness

CLUSTER_DIR = os.environ.get("CHGATE_TEST_CLUSTER_DIR", "")


def cluster_shards():
    """[[ClickHouse per replica] per shard], in remote_servers order."""
    with open(os.path.join(CLUSTER_DIR, "shards")) as f:
        return [[harness.ClickHouse(int(url.rsplit(":", 1)[1])) for url in line.split()]
                for line in f if line.strip()]


class ClusterTest(unittest.TestCase):
    """Each test gets a database of its own on every server of the cluster."""

    DB_PREFIX = "it_cluster"

    @classmethod
    def setUpClass(cls):
        if not (CLUSTER_DIR and harness.CHGATE_BIN):
            raise unittest.SkipTest("run through ctest: the cluster fixture sets CHGATE_TEST_CLUSTER_DIR")
        cls.shards = cluster_shards()
        cls.servers = [server for shard in cls.shards for server in shard]

    def setUp(self):
        self.db = f"{self.DB_PREFIX}_{uuid.uuid4().hex[:8]}"
        for server in self.servers:
            server.query(f"CREATE DATABASE `{self.db}`")
        self.addCleanup(self.drop)

    def drop(self):
        for server in self.servers:
            server.query(f"DROP DATABASE IF EXISTS `{self.db}`")

    def sharded_table(self, name, columns, sharding_key, order_by="tuple()", cluster="chgate_cluster"):
        """`name`: a ReplicatedMergeTree on every server, one per shard;
        `name`_all: a Distributed table over them, on every server."""
        for server in self.servers:
            server.query(
                f"CREATE TABLE `{self.db}`.`{name}` ({columns}) ENGINE = ReplicatedMergeTree("
                f"'/clickhouse/tables/{{shard}}/{self.db}/{name}', '{{replica}}') ORDER BY {order_by}")
            server.query(f"CREATE TABLE `{self.db}`.`{name}_all` AS `{self.db}`.`{name}` "
                         f"ENGINE = Distributed({cluster}, `{self.db}`, `{name}`, {sharding_key})")

    def landed(self, table, column="id"):
        """The values of `column` on the shards, with repeats: per shard, the
        replica that holds the most (the other may still be fetching)."""
        values = []
        for shard in self.shards:
            values += max(([r[column] for r in replica.rows(f"SELECT `{column}` FROM `{self.db}`.`{table}`")]
                           for replica in shard), key=len)
        return values

    def chgate_config(self, tables, urls=None, server=None, storage=None, **clickhouse):
        """A chgate config for the test database, sending to `urls` (every
        server of the cluster by default)."""
        urls = urls or [s.url for s in self.servers]
        cfg = json.loads(harness.make_config(self.db, tables, urls[0], storage, server=server or {}))
        del cfg["clickhouse"]["url"]
        cfg["clickhouse"].update(urls=urls, **clickhouse)
        return json.dumps(cfg)
