"""Everything at once, in a fixed random order: durable load while chgate is
killed (-9) and restarted, stopped and restarted, ClickHouse stopped, the
table renamed away for a while (chgate holds it), the config reloaded, and bad
rows and committed-ack requests mixed in. Then every
acknowledged event must be in ClickHouse, no bad row, and nothing refused as
"not stored"."""

import http.client
import json
import random
import signal
import threading
import time
import unittest

from harness import IntegrationTest, Loader, free_port, restart_clickhouse, wait_until

SEED = 20261122


class Side:
    """A thread posting, in turn, a batch of ten rows with one bad row in it,
    and a single event with ?ack=committed; it remembers what was acknowledged."""

    def __init__(self, port):
        self.port = port
        self.acked, self.sent = set(), set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        k = 0
        while not self.stop.is_set():
            k += 1
            if k % 2:
                rows = [{"id": f"bad{k}-{i}", "n": i} for i in range(10)]
                rows[3]["n"] = "not a number"
                path, good = "/v1/events/t", {r["id"] for r in rows} - {f"bad{k}-3"}
            else:
                rows = {"id": f"committed{k}", "n": 1}
                path, good = "/v1/events/t?ack=committed", {f"committed{k}"}
            self.sent |= good
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("POST", path, body=json.dumps(rows))
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status in (200, 202):
                    self.acked |= good
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)


class ChaosTest(IntegrationTest):
    SCHEMA = {"t": "id String, n UInt32"}

    def test_kills_restarts_outages_holds_reloads_and_bad_rows_lose_no_acknowledged_event(self):
        rng = random.Random(SEED)
        storage, port = self.storage_dir(), free_port()
        sections = {"server": {"listen": f"127.0.0.1:{port}"}, "log": {"level": "info"},
                    "clickhouse": {"retry": {"initial": "100ms", "max": "1s"},
                                   "probe_interval": "200ms"}}

        def tables():
            return {"t": {"strategy": "hybrid", "max_batch_size": rng.choice([100, 500, 2000]),
                          "max_batch_time": "300ms", "max_memory": "8MiB", "retry_attempts": 2}}

        g = self.start(tables(), storage, **sections)
        load = Loader(port, "t", threads=4, per_request=10, pause=0.002)
        side = Side(port)
        load.start()
        side.thread.start()
        actions = ["kill", "term", "outage", "reload", "hold"] * 2
        rng.shuffle(actions)
        for action in actions:
            time.sleep(rng.uniform(1.5, 3))
            if action == "kill":
                g.proc.send_signal(signal.SIGKILL)
                g.proc.wait()
                g = self.start(tables(), storage, **sections)
            elif action == "term":
                self.assertEqual(g.stop(), 0, g.log())
                g = self.start(tables(), storage, **sections)
            elif action == "outage":
                restart_clickhouse(rng.uniform(2, 5))
            elif action == "hold":
                # UNKNOWN_TABLE: chgate holds the table's rows until it is back.
                self.ch.query(f"RENAME TABLE `{self.db}`.t TO `{self.db}`.t_away")
                wait_until(lambda: g.metrics()["tables"]["t"]["held"], 15, message="the hold")
                time.sleep(rng.uniform(1, 3))
                self.ch.query(f"RENAME TABLE `{self.db}`.t_away TO `{self.db}`.t")
            else:
                before = g.log().count("reload:")
                with open(g.config_path, "w") as f:
                    f.write(self.config(tables(), storage, **sections))
                g.proc.send_signal(signal.SIGHUP)
                wait_until(lambda: g.log().count("reload:") > before, 10, message="the reload")
            self.assertIsNone(g.proc.poll(), f"chgate ended after {action}:\n{g.log()}")
        time.sleep(1)
        load.join()
        side.stop.set()
        side.thread.join(timeout=40)

        acked = set(load.acked) | side.acked
        sent = acked | set(load.errors) | load.unanswered | side.sent
        landed = []

        def all_landed():
            landed[:] = [r["id"] for r in self.ch.rows(f"SELECT id FROM `{self.db}`.t")]
            return acked <= set(landed)
        wait_until(all_landed, 120, interval=1, message="every acknowledged event in ClickHouse")
        refused = {i for i, e in load.errors.items() if "nothing was stored" in e}
        self.assertEqual(set(landed) & refused, set(), "events refused as not stored landed")
        self.assertEqual([i for i in landed if i.startswith("bad") and i.endswith("-3")], [],
                         "a bad row landed")
        self.assertEqual(set(landed) - sent, set(), "rows nobody sent")
        m = g.metrics()["tables"]["t"]
        self.assertEqual(m["rows_dropped"], 0, m)
        print(f"\nchaos ({', '.join(actions)}): {len(acked)} acknowledged, all in ClickHouse; "
              f"{len(landed) - len(set(landed))} duplicates; {len(refused)} refused, none "
              f"stored; statuses {load.statuses}")
        self.assertEqual(g.stop(), 0, g.log())


if __name__ == "__main__":
    unittest.main()
