"""The process as an operator meets it: command line, configuration errors,
readiness, ClickHouse outages and rejected rows."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import Chgate, Forwarder, IntegrationTest, free_port, make_config, wait_until

COLUMNS = "id UInt32, note String"


def run_chgate(*args, cwd=None):
    return subprocess.run([harness.CHGATE_BIN, *args], capture_output=True, text=True, timeout=30,
                          cwd=cwd)


class CommandLineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not harness.CHGATE_BIN:
            raise unittest.SkipTest("CHGATE_BIN is not set; run the tests through ctest")

    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_help_and_version(self):
        r = run_chgate("--help")
        self.assertEqual(r.returncode, 0)
        for text in ("--config FILE", "--check-config FILE", "/v1/events/{table}", "SIGTERM"):
            self.assertIn(text, r.stdout)
        r = run_chgate("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^chgate \d+\.\d+\.\d+")

    def test_bad_command_lines_exit_2(self):
        for args in ([], ["--bogus"], ["--config"]):
            r = run_chgate(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("chgate:", r.stderr)

    def test_check_config_prints_the_effective_config(self):
        path = os.path.join(harness.SOURCE_DIR, "config", "chgate.yaml")
        r = run_chgate("--check-config", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mthreads:", r.stdout)
        self.assertIn("strategy: time", r.stdout)
        self.assertIn("max_batch_time: 5s", r.stdout)
        self.assertIn("OK", r.stderr)
        # The printed config is itself valid and prints the same.
        again = run_chgate("--check-config", self.write(r.stdout))
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout, r.stdout)

    def test_every_example_config_is_valid(self):
        examples = os.path.join(harness.SOURCE_DIR, "config", "examples")
        names = sorted(n for n in os.listdir(examples) if n.endswith(".yaml"))
        self.assertGreaterEqual(len(names), 3)
        for name in names:
            # From the repository's root, as deploy/run.sh runs them: their
            # create_tables paths start there.
            r = run_chgate("--check-config", os.path.join(examples, name), cwd=harness.SOURCE_DIR)
            self.assertEqual(r.returncode, 0, f"{name}: {r.stderr}")

    def test_invalid_configs_are_refused_with_path_and_line(self):
        path = self.write("server:\n  listen: \"127.0.0.1:0\"\nbatching:\n  tables:\n    t: {max_batch_sise: 3}\n")
        for args in (["--check-config", path], ["--config", path]):
            r = run_chgate(*args)
            self.assertEqual(r.returncode, 2)
            self.assertIn(":5: batching.tables.t.max_batch_sise: unknown key (did you mean max_batch_size?)",
                          r.stderr)
        r = run_chgate("--config", "/nonexistent.yaml")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot open", r.stderr)

    def test_warnings_for_keys_a_strategy_ignores(self):
        path = self.write("batching: {tables: {p: {strategy: immediate, max_batch_time: 5s}}}\n")
        r = run_chgate("--check-config", path)
        self.assertEqual(r.returncode, 0)
        self.assertIn("strategy immediate does not use this key", r.stderr)

    def test_port_in_use_is_a_clear_start_failure(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            storage = tempfile.mkdtemp(prefix="chgate-it-storage-")
            self.addCleanup(shutil.rmtree, storage, True)
            path = self.write(f"server: {{listen: \"127.0.0.1:{port}\"}}\n"
                              "clickhouse: {url: \"http://127.0.0.1:1\"}\n"
                              f"storage: {{dir: \"{storage}\"}}\n")
            r = run_chgate("--config", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"cannot listen on 127.0.0.1:{port}", r.stderr)


class ClickHouseOutageTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS}

    def test_readyz_follows_clickhouse_and_batches_are_retried(self):
        proxy = Forwarder(self.ch.port)
        self.addCleanup(proxy.close)
        cfg = make_config(self.db, {"t": {"strategy": "immediate", "retry_attempts": 8}},
                          f"http://127.0.0.1:{proxy.port}", self.storage_dir())
        with Chgate(cfg) as g:
            # ClickHouse is "down": chgate starts anyway, and says it is not ready.
            r = g.request("GET", "/readyz")
            self.assertEqual(r.status, 503)
            self.assertIn("ClickHouse does not answer", r.json()["reason"])
            self.assertEqual(g.request("GET", "/healthz").status, 200)
            self.assertEqual(g.post_events("t", [{"id": 1}, {"id": 2}]).status, 202)
            wait_until(lambda: g.metrics()["batching"]["failed_batches"] >= 1, 5, message="a failed attempt")
            self.assertEqual(self.count("t"), 0)
            proxy.open()
            wait_until(lambda: g.request("GET", "/readyz").status == 200, 10, message="ready")
            self.wait_for_count("t", 2, timeout=20)
            m = g.metrics()
            self.assertGreaterEqual(m["batching"]["failed_batches"], 1)
            self.assertEqual(m["batching"]["total_batches"], 1)
            self.assertLess(m["calculated"]["batch_success_rate"], 1.0)
            self.assertIn("retrying in", g.log())
            self.assertEqual(g.stop(), 0)
        self.assert_no_sanitizer_report(g)

    def test_rows_out_of_retries_are_spooled_and_survive_a_restart(self):
        # Even ack: buffered rows are not dropped after retry_attempts: they go to
        # the spool on disk, which a later run sends.
        storage = self.storage_dir()
        port = free_port()  # nothing listens there
        tables = {"t": {"strategy": "immediate", "retry_attempts": 1, "ack": "buffered"}}
        cfg = make_config(self.db, tables, f"http://127.0.0.1:{port}", storage,
                          clickhouse={"retry": {"initial": "50ms", "max": "100ms"}})
        with Chgate(cfg) as g:
            self.assertEqual(g.post_events("t", [{"id": 1}, {"id": 2}]).status, 202)
            m = wait_until(lambda: (lambda m: m if m["tables"]["t"]["rows_spooled"] == 2 else None)(
                g.metrics()), 10, message="the spool")
            self.assertEqual(m["tables"]["t"]["rows_dropped"], 0)
            self.assertEqual(m["tables"]["t"]["spool"]["rows"], 2)
            self.assertIn("spooled to disk", g.log())
            self.assertEqual(g.stop(), 0)
        self.assert_no_sanitizer_report(g)
        # Another run, with ClickHouse, finds the spool and delivers it.
        g2 = self.start(tables, storage)
        self.wait_for_count("t", 2, timeout=15)
        wait_until(lambda: g2.metrics()["storage"]["spool_bytes"] == 0, 10, message="an empty spool")

    def test_durable_rows_out_of_retries_are_spooled_and_delivered_when_clickhouse_is_back(self):
        proxy = Forwarder(self.ch.port)
        self.addCleanup(proxy.close)
        cfg = make_config(self.db, {"t": {"strategy": "immediate", "retry_attempts": 1}},
                          f"http://127.0.0.1:{proxy.port}", self.storage_dir(),
                          clickhouse={"retry": {"initial": "50ms", "max": "100ms"},
                                      "probe_interval": "200ms"})
        with Chgate(cfg) as g:
            self.assertEqual(g.post_events("t", [{"id": 1}, {"id": 2}]).status, 202)
            wait_until(lambda: g.metrics()["tables"]["t"]["rows_spooled"] >= 2, 15, message="the spool")
            self.assertEqual(g.metrics()["tables"]["t"]["rows_dropped"], 0)
            proxy.open()
            self.wait_for_count("t", 2, timeout=40)
            wait_until(lambda: g.metrics()["storage"]["spool_bytes"] == 0, 10, message="an empty spool")
            self.assertEqual(g.stop(), 0)
        self.assert_no_sanitizer_report(g)

    def test_rejected_rows_are_logged_with_clickhouse_code_and_message(self):
        g = self.start({"t": {"strategy": "immediate", "schema": "off"}})
        self.assertEqual(g.post_events("t", [{"id": "not a number"}]).status, 202)
        wait_until(lambda: g.metrics()["tables"]["t"]["failed_batches"] == 1, 10, message="the failure")
        wait_until(lambda: "Code 27" in g.log() or "Code 72" in g.log(), 5, message="the code in the log")
        self.assertIn("Cannot parse", g.log())
        # One attempt only: bad rows fail the same way every time.
        time.sleep(1)
        self.assertEqual(g.metrics()["tables"]["t"]["failed_batches"], 1)
        self.assertEqual(g.post_events("t", [{"id": 5}]).status, 202)
        self.wait_for_count("t", 1)



class ReloadTest(IntegrationTest):
    SCHEMA = {"t": COLUMNS}

    def rewrite(self, g, text):
        with open(g.config_path, "w") as f:
            f.write(text)

    def test_sighup_retunes_tables_without_losing_rows(self):
        storage = self.storage_dir()
        slow = {"t": {"strategy": "size", "max_batch_size": 1000, "ack": "durable"}}
        g = self.start(slow, storage)
        for i in range(5):
            self.assertEqual(g.post_events("t", {"id": i, "note": "before"}).status, 202)
        time.sleep(0.3)
        self.assertEqual(self.count("t"), 0)
        # Batches of 3 from now on: the 5 open rows already reach it.
        self.rewrite(g, self.config({"t": dict(slow["t"], max_batch_size=3)}, storage))
        g.proc.send_signal(signal.SIGHUP)
        self.wait_for_count("t", 5)
        wait_until(lambda: "tables retuned: t" in g.log(), 5, message="the reload logged")
        self.assertEqual(g.metrics()["tables"]["t"]["thresholds"]["max_batch_size"], 3)
        for i in range(5, 8):
            self.assertEqual(g.post_events("t", {"id": i, "note": "after"}).status, 202)
        self.wait_for_count("t", 8)

        # A file that does not load changes nothing.
        applied = g.metrics()["reloads"]["applied"]
        self.assertGreaterEqual(applied, 1)
        self.rewrite(g, "batching: {tables: {t: {strategy: nope}}}\n")
        g.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "is invalid, nothing changed" in g.log(), 5, message="the refusal")
        self.assertEqual(g.metrics()["tables"]["t"]["thresholds"]["max_batch_size"], 3)
        r = g.request("POST", "/admin/reload")
        self.assertEqual(r.status, 400, r)
        self.assertIn("not reloaded", r.json()["error"])
        # /metrics counts both refusals; an alert rule watches the last outcome.
        reloads = g.metrics()["reloads"]
        self.assertEqual((reloads["applied"], reloads["failed"], reloads["last_ok"]),
                         (applied, 2, False), reloads)
        self.assertIn("chgate_config_last_reload_successful 0\n",
                      g.request("GET", "/metrics/prometheus").body)

        # POST /admin/reload says what applies now and what at the next start.
        text = self.config({"t": dict(slow["t"], max_batch_size=2, ack="buffered"),
                            "u": {"strategy": "size", "max_batch_size": 1}}, storage,
                           server={"max_body_size": "1MiB"})
        self.rewrite(g, text)
        r = g.request("POST", "/admin/reload")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["retuned"], ["t"])
        self.assertTrue(g.metrics()["reloads"]["last_ok"])
        self.assertIn("server.max_body_size", body["restart_needed"])
        self.assertTrue(any("batching.tables.t.ack" in x for x in body["restart_needed"]), body)
        self.assertEqual(g.metrics()["tables"]["t"]["ack"], "durable")
        self.assertEqual(g.post_events("u", {"id": 100, "note": "new table"}).status, 202)
        self.assertEqual(g.request("GET", "/admin/reload").status, 405)
        self.assertEqual(g.stop(), 0)
        self.assertEqual(self.count("t"), 8)


if __name__ == "__main__":
    unittest.main()
