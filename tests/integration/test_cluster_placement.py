"""Sharding exactly as ClickHouse's Distributed engine does it: the same rows,
inserted through Distributed tables on a real 2 x 2 cluster, land on the shards
chgate's sharding code picks (cityHash64 of a String, a plain UInt64, and
weights 2 and 1)."""

import http.client
import json
import os
import random
import subprocess
import unittest
import urllib.parse
import uuid

import harness

CLUSTER_DIR = os.environ.get("CHGATE_TEST_CLUSTER_DIR", "")
SHARD_OF = os.environ.get("CHGATE_SHARD_OF", "")


def cluster_shards():
    """[[ClickHouse per replica] per shard], in remote_servers order."""
    with open(os.path.join(CLUSTER_DIR, "shards")) as f:
        return [[harness.ClickHouse(int(url.rsplit(":", 1)[1])) for url in line.split()]
                for line in f if line.strip()]


def chgate_shards(kind, weights, values):
    """The shard chgate's code picks for each value."""
    out = subprocess.run([SHARD_OF, kind, *map(str, weights)], input="".join(f"{v}\n" for v in values),
                         capture_output=True, text=True, check=True)
    return [int(line) for line in out.stdout.split()]


def keys(count):
    """Strings of every length CityHash treats differently (0 to 16, 17 to 32,
    33 to 64, longer), in ASCII, UTF-8 and bytes above 0x7f."""
    rnd = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.:/é漢字ü"
    out = {""}
    while len(out) < count:
        n = rnd.choice([rnd.randrange(0, 17), rnd.randrange(17, 33), rnd.randrange(33, 65),
                        rnd.randrange(65, 300)])
        out.add("".join(rnd.choice(alphabet) for _ in range(n)))
    return sorted(out)


class ClusterPlacementTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (CLUSTER_DIR and SHARD_OF):
            raise unittest.SkipTest("run through ctest: the cluster fixture sets CHGATE_TEST_CLUSTER_DIR")
        cls.shards = cluster_shards()
        cls.servers = [server for shard in cls.shards for server in shard]
        cls.db = f"it_placement_{uuid.uuid4().hex[:8]}"
        for server in cls.servers:
            server.query(f"CREATE DATABASE `{cls.db}`")

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers:
            server.query(f"DROP DATABASE IF EXISTS `{cls.db}`")

    def through_distributed(self, name, columns, cluster, sharding_key, rows):
        """Creates a replicated local table on every server and a Distributed
        table over it, inserts `rows` through the Distributed table, and
        returns the rows each shard holds (both replicas read)."""
        for server in self.servers:
            server.query(
                f"CREATE TABLE `{self.db}`.`{name}` ({columns}) ENGINE = ReplicatedMergeTree("
                f"'/clickhouse/tables/{{shard}}/{self.db}/{name}', '{{replica}}') ORDER BY tuple()")
        first = self.shards[0][0]
        first.query(f"CREATE TABLE `{self.db}`.`{name}_all` AS `{self.db}`.`{name}` "
                    f"ENGINE = Distributed({cluster}, `{self.db}`, `{name}`, {sharding_key})")
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        # insert_distributed_sync: the INSERT returns once every shard has its
        # rows (18.16 takes settings in the URL, not in an INSERT).
        query = urllib.parse.urlencode({
            "query": f"INSERT INTO `{self.db}`.`{name}_all` FORMAT JSONEachRow",
            "insert_distributed_sync": 1})
        conn = http.client.HTTPConnection("127.0.0.1", first.port, timeout=120)
        try:
            conn.request("POST", "/?" + query, body=body.encode())
            resp = conn.getresponse()
            answer = resp.read().decode(errors="replace")
        finally:
            conn.close()
        self.assertEqual(resp.status, 200, answer)
        held = []
        for shard in self.shards:
            rows_here = {}
            for replica in shard:
                for r in replica.rows(f"SELECT * FROM `{self.db}`.`{name}`"):
                    rows_here[json.dumps(r, sort_keys=True)] = r
            held.append(list(rows_here.values()))
        self.assertEqual(sum(len(h) for h in held), len(rows), "every row landed exactly once")
        return held

    def check_placement(self, held, field, kind, weights):
        values = [r[field] for shard in held for r in shard]
        where = [i for i, shard in enumerate(held) for _ in shard]
        picked = chgate_shards(kind, weights, values)
        wrong = [(v, w, p) for v, w, p in zip(values, where, picked) if w != p]
        self.assertEqual(wrong[:5], [], f"{len(wrong)} of {len(values)} rows on another shard "
                                        "than chgate picks (value, ClickHouse's shard, chgate's)")
        for i, shard in enumerate(held):
            if weights[i] > 0:
                self.assertGreater(len(shard), len(values) // (4 * sum(weights)), f"shard {i} got few rows")

    def test_city_hash_of_a_string(self):
        rows = [{"k": k} for k in keys(1500)]
        held = self.through_distributed("by_city", "k String", "chgate_cluster", "cityHash64(k)", rows)
        self.check_placement(held, "k", "city", [1, 1])

    def test_a_plain_unsigned_integer(self):
        rnd = random.Random(11)
        values = {0, 1, 2, 3, 2**63 - 1, 2**63, 2**64 - 1}
        while len(values) < 1500:
            values.add(rnd.randrange(0, 2**64))
        rows = [{"n": v} for v in sorted(values)]
        held = self.through_distributed("by_int", "n UInt64", "chgate_cluster", "n", rows)
        for shard in held:
            for r in shard:
                r["n"] = int(r["n"])  # ClickHouse quotes 64-bit integers in JSON
        self.check_placement(held, "n", "int", [1, 1])

    def test_weights_two_and_one(self):
        rows = [{"k": k} for k in keys(1500)]
        held = self.through_distributed("weighted", "k String", "chgate_weighted", "cityHash64(k)", rows)
        self.check_placement(held, "k", "city", [2, 1])
        self.assertGreater(len(held[0]), len(held[1]), "weight 2 takes about twice the rows of weight 1")


if __name__ == "__main__":
    unittest.main()
