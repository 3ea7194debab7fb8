"""chgate drain (POST /admin/drain), for scaling down: the instance takes no
more events (503, and /readyz says so), sends everything it holds to
ClickHouse (buffers, write-ahead log, spool), then exits 0, leaving a log
with nothing to replay. While ClickHouse cannot take the rows, drain ends
with its timeout, says what is left, and the instance keeps refusing
events."""

import json
import os
import subprocess
import tempfile

import harness


class DrainTest(harness.IntegrationTest):
    SCHEMA = {"t": "id UInt32"}

    def drain_config(self, gate):
        """`gate`'s config with the port it listens on written in, as a
        deployment's config has it."""
        with open(gate.config_path) as f:
            cfg = json.load(f)
        cfg["server"]["listen"] = f"127.0.0.1:{gate.port}"
        path = os.path.join(tempfile.mkdtemp(prefix="chgate-it-drain-"), "chgate.yaml")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def drain(self, gate, *args, **env):
        """Runs `chgate drain` against `gate`: (exit status, stdout, stderr)."""
        r = subprocess.run([harness.CHGATE_BIN, "drain", "--config", self.drain_config(gate), *args],
                           capture_output=True, text=True, timeout=120, env={**os.environ, **env})
        return r.returncode, r.stdout, r.stderr

    def test_drain_sends_everything_then_exits_0_leaving_nothing_to_replay(self):
        storage = self.storage_dir()
        # A long batch time: the rows would wait a minute without the drain.
        tables = {"t": {"ack": "durable", "max_batch_time": "60s", "max_age": "60s"}}
        gate = self.start(tables, storage)
        for i in range(0, 200, 20):
            r = gate.post_events("t", [{"id": n} for n in range(i, i + 20)])
            self.assertEqual(r.status, 202, r)
        self.assertEqual(self.count("t"), 0)
        status, out, err = self.drain(gate, "--timeout", "30s")
        self.assertEqual(status, 0, err)
        self.assertEqual(json.loads(out), {"drained": True, "stopping": True})
        self.assertEqual(self.count("t"), 200)  # there before the answer
        self.assertEqual(gate.stop(sig=None, timeout=30), 0)  # it stops by itself, cleanly
        self.assertIn("drain: everything accepted is in ClickHouse; stopping", gate.log())
        again = self.start(tables, storage)
        self.assertEqual(again.metrics()["storage"]["replay"]["rows"], 0)
        self.assertEqual(self.count("t"), 200)

    def test_drain_refuses_events_and_says_what_is_left_when_clickhouse_is_away(self):
        tables = {"t": {"ack": "durable", "max_batch_time": "100ms"}}
        gate = harness.Chgate(harness.make_config(self.db, tables, f"http://127.0.0.1:{harness.free_port()}",
                                                  self.storage_dir(),
                                                  admin={"token": "a-very-secret-admin-token"}))
        self.addCleanup(gate.__exit__)
        r = gate.post_events("t", [{"id": n} for n in range(10)])
        self.assertEqual(r.status, 202, r)
        # Without the admin token: refused, and nothing changes.
        status, out, err = self.drain(gate, "--timeout", "1s")
        self.assertEqual(status, 1)
        self.assertIn("set CHGATE_ADMIN_TOKEN", err)
        self.assertEqual(gate.post_events("t", [{"id": 99}]).status, 202)

        proc = subprocess.Popen([harness.CHGATE_BIN, "drain", "--config", self.drain_config(gate),
                                 "--timeout", "3s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "CHGATE_ADMIN_TOKEN": "a-very-secret-admin-token"})
        accepted = [11]  # so far; until the drain starts, more may be

        def refused():
            status = gate.post_events("t", [{"id": 100}]).status
            accepted[0] += status == 202
            return status == 503

        harness.wait_until(refused, 5, message="ingest refused while draining")
        r = gate.post_events("t", [{"id": 101}])
        self.assertEqual(r.status, 503)
        self.assertEqual(r.headers.get("Retry-After"), "1")
        self.assertIn("draining", r.json()["error"])
        ready = gate.request("GET", "/readyz")
        self.assertEqual(ready.status, 503)
        self.assertIn("draining", ready.json()["reason"])
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1, err)
        left = json.loads(out)
        self.assertFalse(left["drained"])
        # Held in memory while retried, then spooled: every accepted row still to send.
        self.assertEqual(left["rows_in_memory"] + left["spool_rows"], accepted[0], left)
        self.assertIsNone(gate.proc.poll(), "not drained: chgate keeps running")
        self.assertEqual(gate.post_events("t", [{"id": 102}]).status, 503)

        # A stop during a drain that cannot finish does not wait for its timeout.
        proc = subprocess.Popen([harness.CHGATE_BIN, "drain", "--config", self.drain_config(gate),
                                 "--timeout", "10m"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "CHGATE_ADMIN_TOKEN": "a-very-secret-admin-token"})
        harness.wait_until(lambda: gate.log().count("drain: taking no more events") == 2, 10,
                           message="the second drain")
        self.assertEqual(gate.stop(timeout=60), 0)  # the rows stay in the log for the next start
        out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertFalse(json.loads(out)["drained"])


if __name__ == "__main__":
    import unittest
    unittest.main()
