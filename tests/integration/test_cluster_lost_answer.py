"""ClickHouse commits an INSERT and its answer is lost: chgate sends the same
batch again (after a timeout, or after kill -9 and a replay of its log). On
ReplicatedMergeTree shards behind a Distributed table (distributed: true),
the repeat is the same block, byte for byte, so each shard drops it: the
rows land once."""

import json
import signal
import socket
import tempfile
import threading
import unittest
import uuid

import harness
from test_cluster_placement import CLUSTER_DIR, cluster_shards


class AnswerEater:
    """A TCP proxy to one ClickHouse that passes requests on and, while
    `eating` is set, throws its answers away."""

    def __init__(self, target_port):
        self.eating = threading.Event()
        self.eating.set()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.target = target_port
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        try:
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, src, dst, answers):
        try:
            while data := src.recv(65536):
                if not (answers and self.eating.is_set()):
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass


class ClusterLostAnswerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (CLUSTER_DIR and harness.CHGATE_BIN):
            raise unittest.SkipTest("run through ctest: the cluster fixture sets CHGATE_TEST_CLUSTER_DIR")
        cls.shards = cluster_shards()
        cls.servers = [server for shard in cls.shards for server in shard]

    def setUp(self):
        self.db = f"it_lost_{uuid.uuid4().hex[:8]}"
        for server in self.servers:
            server.query(f"CREATE DATABASE `{self.db}`")
            server.query(
                f"CREATE TABLE `{self.db}`.t (id UInt64, key String) ENGINE = ReplicatedMergeTree("
                f"'/clickhouse/tables/{{shard}}/{self.db}/t', '{{replica}}') ORDER BY id")
            server.query(f"CREATE TABLE `{self.db}`.t_all AS `{self.db}`.t "
                         f"ENGINE = Distributed(chgate_cluster, `{self.db}`, t, cityHash64(key))")
        self.addCleanup(self.drop)
        self.eater = AnswerEater(self.servers[0].port)
        self.addCleanup(self.eater.close)

    def drop(self):
        for server in self.servers:
            server.query(f"DROP DATABASE IF EXISTS `{self.db}`")

    def start(self, urls, storage):
        tables = {"t_all": {"distributed": True, "strategy": "immediate", "ack": "durable"}}
        cfg = json.loads(harness.make_config(self.db, tables, urls[0], storage))
        del cfg["clickhouse"]["url"]
        cfg["clickhouse"].update({"urls": urls, "timeout": "1s",
                                  "retry": {"initial": "200ms", "max": "500ms"}})
        return harness.Chgate(json.dumps(cfg))

    def landed(self):
        """Every id on the shards, with repeats (the fuller replica of each)."""
        ids = []
        for shard in self.shards:
            ids += max(([int(r["id"]) for r in replica.rows(f"SELECT id FROM `{self.db}`.t")]
                        for replica in shard), key=len)
        return ids

    def post_100(self, gate):
        rows = [{"id": i, "key": f"k{i}"} for i in range(100)]
        r = gate.post_events("t_all", rows)
        self.assertEqual(r.status, 202, r)  # durable: in the log
        # ClickHouse commits it; chgate never hears.
        harness.wait_until(lambda: len(self.landed()) >= 100, 30, message="the INSERT to commit")

    def test_a_retry_after_a_lost_answer_lands_once(self):
        storage = tempfile.mkdtemp(prefix="chgate-it-storage-")
        with self.start([f"http://127.0.0.1:{self.eater.port}"], storage) as gate:
            self.post_100(gate)
            # At least one retry goes through the eater too; then answers pass.
            harness.wait_until(lambda: "timed out" in gate.log() or "Timeout" in gate.log(), 30,
                               message="an INSERT to time out")
            self.eater.eating.clear()
            harness.wait_until(lambda: gate.metrics()["batching"]["queued_items"] == 0, 30,
                               message="the batch to be delivered")
            landed = self.landed()
            self.assertEqual((len(landed), len(set(landed))), (100, 100), "once each")

    def test_a_replay_after_kill_9_with_the_answer_lost_lands_once(self):
        storage = tempfile.mkdtemp(prefix="chgate-it-storage-")
        gate = self.start([f"http://127.0.0.1:{self.eater.port}"], storage)
        self.post_100(gate)
        gate.proc.send_signal(signal.SIGKILL)  # the batch in flight, as far as chgate knows
        gate.proc.wait()
        gate.__exit__(None, None, None)
        with self.start([s.url for s in self.servers], storage) as again:
            harness.wait_until(lambda: again.metrics()["batching"]["queued_items"] == 0, 30,
                               message="the replayed batch to be delivered")
            self.assertEqual(again.metrics()["storage"]["replay"]["rows"], 100)
            landed = self.landed()
            self.assertEqual((len(landed), len(set(landed))), (100, 100), "once each")


if __name__ == "__main__":
    unittest.main()
