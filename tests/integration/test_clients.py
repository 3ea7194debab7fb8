"""The client examples of examples/clients/, run against a real chgate and a
real ClickHouse, with the rows counted afterwards: Node's official
@clickhouse/client, Python's requests, Go's net/http; and every curl line of
the README, run as written but for the addresses."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import CHGATE_BIN, Chgate, IntegrationTest, wait_until

SOURCE = os.environ.get("CHGATE_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLES = os.path.join(SOURCE, "examples", "clients")
COLUMNS = "id UInt32, source String, shape String"
TOKEN = "client-examples-token-7d2f4b"
SLOW = "client-examples-slow-token-91ce3a"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def run(args, cwd=None, env=None, timeout=120):
    full_env = dict(os.environ)
    full_env.update(env or {})
    done = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{args[0]} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class ClientExamplesTest(IntegrationTest):
    SCHEMA = {"events": COLUMNS, "committed": COLUMNS}

    def gate(self):
        tables = {"events": {"strategy": "hybrid", "max_batch_time": "200ms"},
                  "committed": {"strategy": "hybrid", "max_batch_time": "100ms",
                                "ack": "committed"}}
        return self.start(tables, auth={"tokens": [
            {"name": "app", "token": TOKEN},
            # A slow app: 5 events a second, so its client meets 429s.
            {"name": "slow", "token": SLOW, "max_events_per_second": 5}]})

    def node(self, g, table, rows, password=TOKEN):
        client = os.path.join(EXAMPLES, "node")
        if not os.path.isdir(os.path.join(client, "node_modules", "@clickhouse", "client")):
            self.fail("@clickhouse/client is not installed: run deploy/test.sh, "
                      "or npm ci in examples/clients/node")
        return run(["node", "insert.js", f"http://127.0.0.1:{g.port}", "app", password, table,
                    json.dumps(rows), self.db], cwd=client)

    def test_node_official_clickhouse_client(self):
        g = self.gate()
        rows = [{"id": i, "source": "clickhouse-js", "shape": "jsoneachrow"} for i in range(3)]
        r = self.node(g, "events", rows)
        self.assertTrue(r["ok"], r)
        self.assertRegex(r["query_id"], UUID)  # the client's own, echoed
        # ack buffered: nothing is written when the answer goes, and the summary says so.
        self.assertEqual(r["summary"]["written_rows"], "0", r)
        # ack committed: the summary counts what ClickHouse took.
        r = self.node(g, "committed", rows)
        self.assertEqual(r["summary"]["written_rows"], "3", r)
        self.assertEqual(self.count("committed"), 3)
        self.wait_for_count("events", 3, where="source = 'clickhouse-js'")
        r = self.node(g, "events", rows, password="not-the-token-0000")
        self.assertFalse(r["ok"])

    def test_python_requests_objects_arrays_gzip_and_retries(self):
        g = self.gate()
        script = os.path.join(EXAMPLES, "python", "send_events.py")
        url = f"http://127.0.0.1:{g.port}"
        # /usr/bin/python3: Debian's, with python3-requests.
        r = run(["/usr/bin/python3", script, url, "events", "--token", TOKEN, "--count", "30"])
        self.assertEqual(r["sent"], 30)
        self.wait_for_count("events", 30, where="source = 'python-requests'")
        shapes = self.ch.rows(f"SELECT shape, toUInt32(count()) AS n FROM `{self.db}`.events "
                              "GROUP BY shape ORDER BY shape")
        self.assertEqual(shapes, [{"shape": "array", "n": 10}, {"shape": "ndjson-gzip", "n": 10},
                                  {"shape": "object", "n": 10}])
        # Past its token's rate the client waits as Retry-After says, and loses nothing.
        r = run(["/usr/bin/python3", script, url, "events", "--token", SLOW, "--count", "24",
                 "--source", "slow"])
        self.assertGreater(r["retried"], 0, r)
        self.wait_for_count("events", 24, where="source = 'slow'")
        self.assertEqual(g.metrics()["auth"]["tokens"]["slow"]["rate_limited"], r["retried"])

    def test_go_net_http(self):
        if not shutil.which("go"):
            self.fail("go is not installed: deploy/install-deps.sh installs golang-go")
        g = self.gate()
        cache = tempfile.mkdtemp(prefix="chgate-it-gocache-")
        self.addCleanup(shutil.rmtree, cache, True)
        r = run(["go", "run", ".", "-url", f"http://127.0.0.1:{g.port}", "-table", "events",
                 "-token", TOKEN, "-count", "100", "-batch", "25"],
                cwd=os.path.join(EXAMPLES, "go"),
                env={"GOCACHE": cache, "GOPATH": cache, "GOFLAGS": "-mod=mod",
                     "GOPROXY": "off"}, timeout=300)
        self.assertEqual(r, {"sent": 100, "requests": 4, "retried": 0})
        self.wait_for_count("events", 100, where="source = 'go-net-http'")


def readme_commands(path):
    """The README's shell lines to run: each curl command (joined across the
    lines its quotes span) and each `chgate --check-config`, with the output
    the README shows for it (a `# ...` line right after), if any."""
    with open(path) as f:
        text = f.read()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not re.match(r"(curl|\./build-release/chgate) ", line):
                continue
            command = line
            while command.count("'") % 2 == 1 and i < len(lines):  # inside a quoted body
                command += "\n" + lines[i]
                i += 1
            expected = None
            if i < len(lines) and lines[i].startswith("# {"):
                expected = lines[i][2:]
            commands.append((command, expected))
    return commands


class ReadmeCurlTest(IntegrationTest):
    """The README's own commands against the README's own configuration:
    config/chgate.yaml with the example tables of deploy/sql/chgate.sql."""

    def test_every_curl_line_of_the_readme_runs(self):
        subprocess.run([os.path.join(SOURCE, "deploy", "apply-sql.sh"), self.ch.url,
                        os.path.join(SOURCE, "deploy", "sql", "chgate.sql"), self.db],
                       check=True, capture_output=True, timeout=60)
        with open(os.path.join(SOURCE, "config", "chgate.yaml")) as f:
            config = f.read()
        storage = self.storage_dir()
        g = Chgate(config, env={"CHGATE_LISTEN": "127.0.0.1:0", "CLICKHOUSE_URL": self.ch.url,
                                "CLICKHOUSE_DATABASE": self.db, "CHGATE_STORAGE_DIR": storage})
        self.addCleanup(self.assert_no_sanitizer_report, g)
        self.addCleanup(g.__exit__)
        self.addCleanup(self._dump_log_on_failure, g)

        commands = readme_commands(os.path.join(SOURCE, "README.md"))
        self.assertGreaterEqual(sum(c.startswith("curl") for c, _ in commands), 3)
        ch_port = self.ch.url.rsplit(":", 1)[1]
        for command, expected in commands:
            shell = (command.replace("localhost:8080", f"127.0.0.1:{g.port}")
                     .replace("localhost:8123/?", f"127.0.0.1:{ch_port}/?database={self.db}&")
                     .replace("./build-release/chgate", CHGATE_BIN))
            self.assertNotIn("localhost", shell, "a README address the test does not know")

            def attempt():
                done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], cwd=SOURCE,
                                      capture_output=True, text=True, timeout=60)
                return done.returncode, done.stdout

            # A query may run before its rows have landed: try it until it shows some.
            code, out = attempt()
            deadline = time.monotonic() + 15
            while code == 0 and not out.strip() and time.monotonic() < deadline:
                time.sleep(0.5)
                code, out = attempt()
            self.assertEqual(code, 0, f"{command}\n{out}")
            self.assertTrue(out.strip(), f"{command}: no output")
            if expected is not None:
                self.assertEqual(json.loads(out), json.loads(expected), command)
            if "FROM+events" in command:
                self.assertIn("e-1", out)
                self.assertIn("page_view", out)
        self.assertEqual(self.count("events"), 1)


if __name__ == "__main__":
    unittest.main()
