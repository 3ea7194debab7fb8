"""Sharding exactly as ClickHouse's Distributed engine does it: the same JSON
rows, inserted through Distributed tables on a real 2 x 2 cluster, land on the
shards chgate's sharding code picks for them (cityHash64 of a string or an
integer, a plain UInt64, weights 2 and 1), escapes and all; and chgate with
shard_by, inserting into each shard's local table itself, puts every row on
the shard the Distributed table did."""

import http.client
import json
import os
import random
import subprocess
import unittest
import urllib.parse

import cluster
import harness

SHARD_OF = os.environ.get("CHGATE_SHARD_OF", "")


def chgate_shards(shard_by, weights, lines):
    """The shard chgate's code picks for each JSON row."""
    out = subprocess.run([SHARD_OF, shard_by, *map(str, weights)], input="".join(l + "\n" for l in lines),
                         capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def strings(count):
    """Strings of every length CityHash treats differently (0 to 16, 17 to 32,
    33 to 64, longer), in ASCII, UTF-8 (2, 3 and 4 bytes), with the
    characters JSON escapes."""
    rnd = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.:/é漢字ü😀\"\\\t/"
    out = {""}
    while len(out) < count:
        n = rnd.choice([rnd.randrange(0, 17), rnd.randrange(17, 33), rnd.randrange(33, 65),
                        rnd.randrange(65, 300)])
        out.add("".join(rnd.choice(alphabet) for _ in range(n)))
    return sorted(out)


def as_json(field, values):
    """One JSON object per value, alternately with \\u escapes (surrogate
    pairs for the emoji) and raw UTF-8, with other fields around the key."""
    return [json.dumps({"before": i, field: v, "after": [1, {"x": "y"}]}, ensure_ascii=i % 2 == 0)
            for i, v in enumerate(values)]


class ClusterPlacementTest(cluster.ClusterTest):
    DB_PREFIX = "it_placement"

    @classmethod
    def setUpClass(cls):
        if not SHARD_OF:
            raise unittest.SkipTest("run through ctest: it sets CHGATE_SHARD_OF")
        super().setUpClass()

    def through_distributed(self, name, column, cluster_name, sharding_key, lines):
        """Creates a replicated local table on every server and a Distributed
        table over it, inserts the JSON `lines` through the Distributed table,
        and returns the values of `column` each shard holds (both replicas read)."""
        self.sharded_table(name, f"{column}, before UInt32", sharding_key, cluster=cluster_name)
        first = self.shards[0][0]
        # insert_distributed_sync: the INSERT returns once every shard has its
        # rows (18.16 takes settings in the URL, not in an INSERT).
        # input_format_skip_unknown_fields: the "after" field has no column.
        query = urllib.parse.urlencode({
            "query": f"INSERT INTO `{self.db}`.`{name}_all` FORMAT JSONEachRow",
            "insert_distributed_sync": 1, "input_format_skip_unknown_fields": 1})
        conn = http.client.HTTPConnection("127.0.0.1", first.port, timeout=120)
        try:
            conn.request("POST", "/?" + query, body="".join(l + "\n" for l in lines).encode())
            resp = conn.getresponse()
            answer = resp.read().decode(errors="replace")
        finally:
            conn.close()
        self.assertEqual(resp.status, 200, answer)
        held = self.held_by_shard(name, "before")
        self.assertEqual(sum(len(h) for h in held), len(lines), "every row landed exactly once")
        return held

    def through_chgate(self, name, column, weights, shard_by, lines, held):
        """Sends the JSON `lines` through chgate, with shard_by, into a second
        local table like `name`, and checks each row lands on the shard it
        landed on through the Distributed table (`held`)."""
        local = name + "_gw"
        self.sharded_table(local, f"{column}, before UInt32", "rand()")
        tables = {f"{local}_all": {"shard_by": shard_by, "local_table": local, "ack": "committed",
                                   "max_batch_size": 400, "max_batch_time": "50ms"}}
        config = self.chgate_config(tables, weights=weights,
                                    settings={"input_format_skip_unknown_fields": 1})
        with harness.Chgate(config) as gate:
            for start in range(0, len(lines), 500):
                body = "".join(l + "\n" for l in lines[start:start + 500])
                r = gate.request("POST", f"/v1/events/{local}_all", body.encode(),
                                 {"Content-Type": "application/x-ndjson"}, timeout=60)
                self.assertEqual(r.status, 200, r)
            shards = gate.metrics()["tables"][f"{local}_all"]["shards"]
        self.assertEqual([s["rows_inserted"] for s in shards], [len(h) for h in held])
        self.assertEqual(self.held_by_shard(local, "before"), held,
                         "chgate puts every row on the shard the Distributed table did")

    def check_placement(self, held, shard_by, weights, lines):
        picked = chgate_shards(shard_by, weights, lines)
        where = {row: str(i) for i, shard in enumerate(held) for row in shard}
        wrong = [(lines[i], where[i], p) for i, p in enumerate(picked) if where[i] != p]
        self.assertEqual(wrong[:3], [], f"{len(wrong)} of {len(lines)} rows on another shard "
                                        "than chgate picks (row, ClickHouse's shard, chgate's)")
        for i, shard in enumerate(held):
            self.assertGreater(len(shard), len(lines) // (4 * sum(weights)), f"shard {i} got few rows")

    def test_city_hash_of_a_string(self):
        lines = as_json("k", strings(1500))
        held = self.through_distributed("by_city", "k String", "chgate_cluster", "cityHash64(k)", lines)
        self.check_placement(held, "cityHash64(k)", [1, 1], lines)
        self.through_chgate("by_city", "k String", [1, 1], "cityHash64(k)", lines, held)

    def test_city_hash_of_an_integer(self):
        rnd = random.Random(5)
        values = sorted({0, 1, 2**32 - 1, 2**63, 2**64 - 1} | {rnd.randrange(0, 2**64) for _ in range(1000)})
        lines = as_json("n", values)
        held = self.through_distributed("by_city_int", "n UInt64", "chgate_cluster", "cityHash64(n)", lines)
        self.check_placement(held, "cityHash64(n)", [1, 1], lines)
        self.through_chgate("by_city_int", "n UInt64", [1, 1], "cityHash64(n)", lines, held)

    def test_a_plain_unsigned_integer(self):
        rnd = random.Random(11)
        values = sorted({0, 1, 2, 3, 2**63 - 1, 2**63, 2**64 - 1} | {rnd.randrange(0, 2**64) for _ in range(1500)})
        lines = as_json("n", values)
        held = self.through_distributed("by_int", "n UInt64", "chgate_cluster", "n", lines)
        self.check_placement(held, "n", [1, 1], lines)
        self.through_chgate("by_int", "n UInt64", [1, 1], "n", lines, held)

    def test_weights_two_and_one(self):
        lines = as_json("k", strings(1500))
        held = self.through_distributed("weighted", "k String", "chgate_weighted", "cityHash64(k)", lines)
        self.check_placement(held, "cityHash64(k)", [2, 1], lines)
        self.through_chgate("weighted", "k String", [2, 1], "cityHash64(k)", lines, held)
        self.assertGreater(len(held[0]), len(held[1]), "weight 2 takes about twice the rows of weight 1")


if __name__ == "__main__":
    unittest.main()
