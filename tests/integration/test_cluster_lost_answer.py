"""ClickHouse commits an INSERT and its answer is lost: chgate sends the same
batch again (after a timeout, or after kill -9 and a replay of its log). On
ReplicatedMergeTree shards behind a Distributed table (distributed: true),
the repeat is the same block, byte for byte, so each shard drops it: the
rows land once."""

import signal
import socket
import tempfile
import threading
import unittest

import cluster
import harness


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


class ClusterLostAnswerTest(cluster.ClusterTest):
    DB_PREFIX = "it_lost"

    def setUp(self):
        super().setUp()
        self.sharded_table("t", "id UInt64, key String", "cityHash64(key)", order_by="id")
        self.eater = AnswerEater(self.servers[0].port)
        self.addCleanup(self.eater.close)

    def start(self, urls, storage):
        tables = {"t_all": {"distributed": True, "strategy": "immediate", "ack": "durable"}}
        return harness.Chgate(self.chgate_config(tables, urls=urls, storage=storage, timeout="1s",
                                                 retry={"initial": "200ms", "max": "500ms"}))

    def ids(self):
        return [int(i) for i in self.landed("t")]

    def post_100(self, gate):
        rows = [{"id": i, "key": f"k{i}"} for i in range(100)]
        r = gate.post_events("t_all", rows)
        self.assertEqual(r.status, 202, r)  # durable: in the log
        # ClickHouse commits it; chgate never hears.
        harness.wait_until(lambda: len(self.ids()) >= 100, 30, message="the INSERT to commit")

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
            landed = self.ids()
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
            landed = self.ids()
            self.assertEqual((len(landed), len(set(landed))), (100, 100), "once each")


if __name__ == "__main__":
    unittest.main()
