"""Several ClickHouse replicas: each with a probe and a circuit breaker, and
inserts fail over to one that works. Two TCP forwarders to the test server
stand in for two replicas, and are opened and closed to stage failures."""

import unittest

from harness import Chgate, Forwarder, IntegrationTest, make_config, wait_until

COLUMNS = "id UInt32"


class ReplicasTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS}

    def replicas(self, g):
        return {r["url"]: r for r in g.metrics()["clickhouse"]["replicas"]}

    def test_inserts_fail_over_and_breakers_open_and_close(self):
        a, b = Forwarder(self.ch.port), Forwarder(self.ch.port)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        b.open()  # a is down, b is up
        url_a, url_b = f"http://127.0.0.1:{a.port}", f"http://127.0.0.1:{b.port}"
        cfg = make_config(self.db, {"t": {"strategy": "immediate", "retry_attempts": 20}}, url_a,
                          self.storage_dir(),
                          clickhouse={"urls": [url_a, url_b], "url": None,
                                      "probe_interval": "200ms",
                                      "circuit_breaker": {"failures": 2, "cooldown": "1s"},
                                      "retry": {"initial": "50ms", "max": "200ms"}})
        with Chgate(cfg.replace('"url": null,', "")) as g:
            self.assertEqual(g.request("GET", "/readyz").status, 200)  # one replica is enough
            for i in range(20):
                self.assertEqual(g.post_events("t", {"id": i}).status, 202)
            self.wait_for_count("t", 20, timeout=15)
            r = self.replicas(g)
            self.assertFalse(r[url_a]["reachable"])
            self.assertTrue(r[url_b]["reachable"])
            self.assertEqual(r[url_b]["circuit_breaker"], "closed")

            # Now the other way round: a comes back, b goes away.
            a.open()
            b.close()
            wait_until(lambda: self.replicas(g)[url_a]["reachable"], 10, message="a reachable")
            for i in range(20, 40):
                self.assertEqual(g.post_events("t", {"id": i}).status, 202)
            self.wait_for_count("t", 40, timeout=20)
            wait_until(lambda: not self.replicas(g)[url_b]["reachable"], 10, message="b unreachable")

            # Both away: not ready, and the rows wait; both back: they land.
            a.close()
            r = wait_until(lambda: (lambda r: r if r.status == 503 else None)(
                g.request("GET", "/readyz")), 10, message="readyz 503")
            self.assertIn(url_a, r.json()["reason"])
            self.assertEqual(g.post_events("t", {"id": 40}).status, 202)
            wait_until(lambda: "open" in {x["circuit_breaker"] for x in self.replicas(g).values()},
                       10, message="a breaker to open")
            a.open()
            b.open()
            self.wait_for_count("t", 41, timeout=20)
            wait_until(lambda: g.request("GET", "/readyz").status == 200, 10, message="ready again")
            self.assertEqual(g.stop(), 0)
        self.assert_no_sanitizer_report(g)


if __name__ == "__main__":
    unittest.main()
