"""Two chgates behind Debian's haproxy, each with its own storage.dir, feeding
replicated shards with shard_by. kill -9 of one under durable load: haproxy
routes around it, clients go on through the other, and once the killed one
is back its log replays. Every acknowledged event lands, none twice."""

import os
import shutil
import signal
import subprocess
import tempfile
import unittest

import cluster
import harness

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

HAPROXY_CONFIG = """global
    maxconn 2000
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
frontend ingest
    bind 127.0.0.1:{port}
    default_backend chgates
backend chgates
    balance roundrobin
    option httpchk GET /readyz
    default-server inter 200ms fall 2 rise 2
{servers}
"""


class ClusterHaproxyTest(cluster.ClusterTest):
    DB_PREFIX = "it_haproxy"

    @classmethod
    def setUpClass(cls):
        if not os.access(HAPROXY, os.X_OK):
            raise unittest.SkipTest("haproxy is not installed (deploy/install-deps.sh installs it)")
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.sharded_table("t", "id String, n UInt32", "cityHash64(id)", order_by="id")

    def gate(self, storage):
        tables = {"t_all": {"shard_by": "cityHash64(id)", "local_table": "t", "ack": "durable",
                            "max_batch_size": 500, "max_batch_time": "200ms"}}
        return harness.Chgate(self.chgate_config(tables, storage=storage, weights=[1, 1]))

    def haproxy(self, gates):
        port = harness.free_port()
        servers = "\n".join(f"    server gate{i} 127.0.0.1:{g.port} check" for i, g in enumerate(gates))
        path = os.path.join(tempfile.mkdtemp(prefix="chgate-it-haproxy-"), "haproxy.cfg")
        with open(path, "w") as f:
            f.write(HAPROXY_CONFIG.format(port=port, servers=servers))
        proc = subprocess.Popen([HAPROXY, "-f", path, "-db"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (proc.kill(), proc.wait()))
        harness.wait_until(lambda: self.healthy(port), 10, message="haproxy to pass requests on")
        return port

    @staticmethod
    def healthy(port):
        try:
            return harness.raw_request(port, b"GET /healthz HTTP/1.0\r\n\r\n", 2).startswith(b"HTTP/1.0 200")
        except OSError:
            return False

    def test_kill_9_of_one_chgate_behind_haproxy_loses_nothing(self):
        storage = [tempfile.mkdtemp(prefix="chgate-it-storage-") for _ in range(2)]
        a, b = self.gate(storage[0]), self.gate(storage[1])
        self.addCleanup(b.__exit__, None, None, None)
        port = self.haproxy([a, b])
        load = harness.Loader(port, "t_all", threads=8)
        load.start()
        harness.wait_until(lambda: len(load.acked) >= 3000, 60, message="load through haproxy")
        a.proc.send_signal(signal.SIGKILL)  # rows in its buffers, its log and in flight
        a.proc.wait()
        a.__exit__(None, None, None)
        killed_at = len(load.acked)
        harness.wait_until(lambda: len(load.acked) >= killed_at + 3000, 60,
                           message="clients go on through the other chgate")
        load.join()
        acked = set(load.acked)
        failed = sum(n for status, n in load.statuses.items() if status >= 300)

        with self.gate(storage[0]) as again:  # its log replays into the shards
            harness.wait_until(lambda: acked <= set(self.landed("t")), 90,
                               message="every acknowledged event on the shards")
            for g in (again, b):
                harness.wait_until(lambda: g.metrics()["batching"]["queued_items"] == 0, 30,
                                   message="nothing left to send")
            replayed = again.metrics()["storage"]["replay"]["rows"]
        landed = self.landed("t")
        duplicates = len(landed) - len(set(landed))
        print(f"\nhaproxy: {len(acked)} acknowledged ({len(acked) - killed_at} after the kill), "
              f"all on the shards; {replayed} rows replayed by the killed chgate; "
              f"{failed} requests answered with an error and {len(load.unanswered)} events "
              f"unanswered around the kill; {duplicates} duplicates")
        self.assertGreater(b.metrics()["tables"]["t_all"]["rows_accepted"], 0)
        self.assertTrue(set(landed) <= acked | load.unanswered | set(load.errors), "rows nobody sent")
        self.assertEqual(duplicates, 0)


if __name__ == "__main__":
    unittest.main()
