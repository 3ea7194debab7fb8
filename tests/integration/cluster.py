"""Helpers for the tests that use the shared cluster (the "cluster" ctest
fixture: deploy/cluster.sh, ZooKeeper and 2 shards x 2 replicas)."""

import json
import os
import subprocess
import unittest
import uuid

import harness

CLUSTER_DIR = os.environ.get("CHGATE_TEST_CLUSTER_DIR", "")


def cluster_shards():
    """[[ClickHouse per replica] per shard], in remote_servers order."""
    with open(os.path.join(CLUSTER_DIR, "shards")) as f:
        return [[harness.ClickHouse(int(url.rsplit(":", 1)[1])) for url in line.split()]
                for line in f if line.strip()]


def replicas_of_shard(i):
    """The data directories of shard `i`'s replicas (from 0)."""
    return [os.path.join(CLUSTER_DIR, f"s{i + 1}r{r}") for r in (1, 2)]


def start_server(path):
    """Starts the cluster's server in `path` again, on its own ports."""
    with open(os.path.join(path, "http_port")) as f:
        http_port = f.read().strip()
    with open(os.path.join(path, "tcp_port")) as f:
        tcp_port = f.read().strip()
    subprocess.run([os.path.join(harness.SOURCE_DIR, "deploy", "clickhouse.sh"), "start", path,
                    http_port, tcp_port, "--test"], check=True, capture_output=True)


def stop_server(path):
    subprocess.run([os.path.join(harness.SOURCE_DIR, "deploy", "clickhouse.sh"), "stop", path],
                   check=True, capture_output=True)


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
        replica that holds the most (the other may still be fetching, or be
        down)."""
        values = []
        for shard in self.shards:
            held = []
            for replica in shard:
                try:
                    held.append([r[column] for r in replica.rows(f"SELECT `{column}` FROM `{self.db}`.`{table}`")])
                except OSError:
                    pass  # a replica the test stopped
            values += max(held, key=len, default=[])
        return values

    def chgate_config(self, tables, urls=None, server=None, storage=None, weights=None, discover=None,
                      **clickhouse):
        """A chgate config for the test database, sending to `urls` (every
        server of the cluster by default). With `weights`, clickhouse.cluster
        lists the shards with those weights, for tables with shard_by; with
        `discover` (a remote_servers name), chgate checks them against it."""
        urls = urls or [s.url for s in self.servers]
        cfg = json.loads(harness.make_config(self.db, tables, urls[0], storage, server=server or {}))
        del cfg["clickhouse"]["url"]
        cfg["clickhouse"].update(urls=urls, **clickhouse)
        if weights:
            cfg["clickhouse"]["cluster"] = {"shards": [
                {"weight": w, "replicas": [r.url for r in shard]} for w, shard in zip(weights, self.shards)]}
            if discover:
                cfg["clickhouse"]["cluster"].update(name=discover, discover=True)
        return json.dumps(cfg)

    def held_by_shard(self, table, column):
        """The set of `column` values each shard holds (either replica)."""
        held = []
        for shard in self.shards:
            here = set()
            for replica in shard:
                here.update(r[column] for r in replica.rows(f"SELECT `{column}` FROM `{self.db}`.`{table}`"))
            held.append(here)
        return held
