"""The cluster's shards change while chgate runs, with rows buffered.

- A reload with a new list of shards places the next rows by it, exactly as
  the Distributed table over the new shards does; rows buffered before stay
  on the shards they were placed on. Nothing is lost or doubled.
- With discover and no listed shards, chgate reads the cluster from
  system.clusters (HTTP ports by clickhouse.cluster.http_ports: the test
  servers share one host). ClickHouse's remote_servers is rewritten under
  it; a reload of chgate reads the new cluster, and the same holds.
"""

import http.client
import json
import os
import time
import unittest
import urllib.parse

import cluster
import harness
from test_cluster_placement import as_json, strings

LIVE_XML = "zz_chgate_live.xml"
SKIP = {"input_format_skip_unknown_fields": 1}  # the rows' "after" has no column


def ports():
    """[(TCP port, HTTP port)] of s1r1, s1r2, s2r1 and s2r2."""
    out = []
    for s in (1, 2):
        for r in (1, 2):
            path = os.path.join(cluster.CLUSTER_DIR, f"s{s}r{r}")
            with open(os.path.join(path, "tcp_port")) as f, open(os.path.join(path, "http_port")) as g:
                out.append((int(f.read()), int(g.read())))
    return out


class ClusterTopologyTest(cluster.ClusterTest):
    DB_PREFIX = "it_topology"

    def through_distributed(self, name, lines):
        """Inserts `lines` through `name`_all (over chgate_weighted: shards 1
        and 2, weights 2 and 1) and returns the `before` values each shard holds."""
        query = urllib.parse.urlencode({
            "query": f"INSERT INTO `{self.db}`.`{name}_all` FORMAT JSONEachRow",
            "insert_distributed_sync": 1, "input_format_skip_unknown_fields": 1})
        conn = http.client.HTTPConnection("127.0.0.1", self.shards[0][0].port, timeout=120)
        try:
            conn.request("POST", "/?" + query, body="".join(l + "\n" for l in lines).encode())
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200, resp.read())
            resp.read()
        finally:
            conn.close()
        return self.held_by_shard(name, "before")

    def tables(self):
        """`ref`: the Distributed placement to compare with; `gw`: chgate's,
        with rows buffered until /admin/flush."""
        self.sharded_table("ref", "k String, before UInt32", "cityHash64(k)", cluster="chgate_weighted")
        self.sharded_table("gw", "k String, before UInt32", "rand()")
        return {"gw_all": {"shard_by": "cityHash64(k)", "local_table": "gw", "ack": "durable",
                           "max_batch_size": 100000, "max_batch_time": "1h"}}

    def send(self, gate, lines):
        for start in range(0, len(lines), 500):
            body = "".join(l + "\n" for l in lines[start:start + 500])
            r = gate.request("POST", "/v1/events/gw_all", body.encode(),
                             {"Content-Type": "application/x-ndjson"}, timeout=60)
            self.assertEqual(r.status, 202, r)

    def check_landed(self, gate, before, after):
        """`before` rows all on shard 1 (the only one then); `after` rows on
        the shards the Distributed table over both puts them; each once."""
        self.assertEqual(gate.request("POST", "/admin/flush").status, 202)
        total = len(before) + len(after)
        harness.wait_until(lambda: len(self.landed("gw", "before")) >= total, 60,
                           message="every row to land")
        self.assertEqual(sorted(self.landed("gw", "before")), list(range(total)), "no loss, no repeat")
        held = self.held_by_shard("gw", "before")
        first = set(range(len(before)))
        self.assertEqual(held[0] & first, first, "rows buffered before the change stay on shard 1")
        want = self.through_distributed("ref", after)
        got = [h - first for h in held]
        self.assertEqual(got, want, "new rows land where the Distributed table puts them")
        self.assertGreater(len(want[1]), 0)

    def rows(self):
        """JSON rows: `before` numbers them, so the first 400 and the next 1200 differ."""
        lines = as_json("k", strings(1600))
        return lines[:400], lines[400:]

    def test_a_reload_with_new_shards(self):
        before, after = self.rows()
        tables = self.tables()
        with harness.Chgate(self.chgate_config(tables, weights=[1], settings=SKIP)) as gate:
            self.send(gate, before)
            with open(gate.config_path, "w") as f:
                f.write(self.chgate_config(tables, weights=[2, 1], settings=SKIP))
            r = gate.request("POST", "/admin/reload")
            self.assertEqual(r.status, 200, r)
            self.assertNotIn("clickhouse.cluster", json.dumps(r.json()["restart_needed"]))
            shards = gate.metrics()["clickhouse"]["shards"]
            self.assertEqual([s["weight"] for s in shards], [2, 1])
            self.send(gate, after)
            self.check_landed(gate, before, after)
            counted = gate.metrics()["tables"]["gw_all"]["shards"]
            self.assertEqual(sum(s["rows_accepted"] for s in counted), len(before) + len(after))

    def write_live_cluster(self, shard_count):
        """remote_servers' chgate_live on the first server: the first
        `shard_count` shards of the test cluster, weights 2 and 1. Returns
        once that server's system.clusters shows it."""
        servers = ports()
        shards = ""
        for s in range(shard_count):
            replicas = "".join(f"<replica><host>127.0.0.1</host><port>{tcp}</port></replica>"
                               for tcp, _ in servers[2 * s:2 * s + 2])
            shards += (f"<shard><weight>{2 - s}</weight><internal_replication>true</internal_replication>"
                       f"{replicas}</shard>")
        path = os.path.join(cluster.CLUSTER_DIR, "s1r1", "config.d", LIVE_XML)
        with open(path + ".tmp", "w") as f:
            f.write(f"<?xml version=\"1.0\"?>\n<yandex><remote_servers><chgate_live>{shards}"
                    "</chgate_live></remote_servers></yandex>\n")
        os.replace(path + ".tmp", path)
        first = self.shards[0][0]
        sql = "SELECT max(shard_num) AS n FROM system.clusters WHERE cluster = 'chgate_live'"

        def reloaded():
            # ClickHouse reads its config files again every few seconds by
            # itself; this asks at once (and says why, if it cannot).
            first.query("SYSTEM RELOAD CONFIG")
            return int(first.rows(sql)[0]["n"]) == shard_count
        harness.wait_until(reloaded, 30, interval=0.5, message="ClickHouse to read remote_servers again")

    def remove_live_cluster(self):
        path = os.path.join(cluster.CLUSTER_DIR, "s1r1", "config.d", LIVE_XML)
        if os.path.exists(path):
            os.remove(path)

    def test_discover_follows_system_clusters(self):
        self.addCleanup(self.remove_live_cluster)
        self.write_live_cluster(1)
        before, after = self.rows()
        tables = self.tables()
        config = json.loads(self.chgate_config(tables, urls=[self.shards[0][0].url], settings=SKIP))
        config["clickhouse"]["cluster"] = {"name": "chgate_live", "discover": True,
                                           "http_ports": dict(ports())}
        with harness.Chgate(json.dumps(config)) as gate:
            state = gate.metrics()["clickhouse"]
            self.assertEqual([s["replicas"] for s in state["shards"]], [[s.url for s in self.shards[0]]])
            self.assertTrue(state["cluster"]["checked"], state)
            self.send(gate, before)
            self.write_live_cluster(2)
            self.assertEqual(gate.request("POST", "/admin/reload").status, 200)
            harness.wait_until(lambda: "(discover): 2 shards from now on" in gate.log(), 20,
                               message="chgate to read the new cluster")
            shards = gate.metrics()["clickhouse"]["shards"]
            self.assertEqual([s["weight"] for s in shards], [2, 1])
            self.assertEqual(shards[1]["replicas"], [s.url for s in self.shards[1]])
            self.send(gate, after)
            self.check_landed(gate, before, after)

    def test_a_cluster_chgate_cannot_route_by_changes_nothing(self):
        # Without http_ports, the four servers on one host would share a URL:
        # refused, and sharded tables wait (503) rather than guess.
        tables = self.tables()
        config = json.loads(self.chgate_config(tables, urls=[self.shards[0][0].url], settings=SKIP))
        config["clickhouse"]["cluster"] = {"name": "chgate_weighted", "discover": True}
        with harness.Chgate(json.dumps(config)) as gate:
            r = gate.request("POST", "/v1/events/gw_all", b'{"k":"a","before":1}')
            self.assertEqual(r.status, 503, r)
            self.assertIn("Retry-After", r.headers)
            state = gate.metrics()["clickhouse"]
            self.assertNotIn("shards", state)
            self.assertIn("clickhouse.cluster.http_ports", state["cluster"]["differences"][0])


if __name__ == "__main__":
    unittest.main()
