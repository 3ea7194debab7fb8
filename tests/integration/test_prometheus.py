"""Prometheus, for real: Debian's prometheus scrapes a chgate under load and its
HTTP API is asked for the chgate_* series; promtool checks the exposition and
the alert rules (deploy/prometheus/alerts.yml, with their unit tests); the
rules are loaded and one fires; and every PromQL expression of the Grafana
dashboard (deploy/grafana/chgate.json) is evaluated against that Prometheus."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

from harness import IntegrationTest, Loader, free_port, wait_until

SOURCE = os.environ.get("CHGATE_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RULES = os.path.join(SOURCE, "deploy", "prometheus", "alerts.yml")
RULE_TESTS = os.path.join(SOURCE, "deploy", "prometheus", "alerts_test.yml")
DASHBOARD = os.path.join(SOURCE, "deploy", "grafana", "chgate.json")
COLUMNS = "id UInt32, note String"
TOKEN = "prometheus-test-token-5c1e9a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = {"strategy": "hybrid", "max_batch_time": "200ms", "ack": "durable"}

# Families chgate has only in a setup this test does not make: with
# clickhouse.cluster (shards). A dashboard expression over them may be empty
# here, but each name must still be one chgate exposes (checked in the source).
CLUSTER_ONLY = ("chgate_clickhouse_shard_reachable", "chgate_shard_")


def promtool(*args, stdin=None):
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


class Prometheus:
    """Debian's prometheus on a free loopback port, scraping `target` every
    second and evaluating alerts.yml every second."""

    def __init__(self, target, metrics_path="/metrics"):
        self.dir = tempfile.mkdtemp(prefix="chgate-it-prometheus-")
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [RULES],
            "scrape_configs": [{"job_name": "chgate", "metrics_path": metrics_path,
                                "static_configs": [{"targets": [target]}]}],
        }
        path = os.path.join(self.dir, "prometheus.yml")
        with open(path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={path}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(lambda: self._ready() or self.proc.poll() is not None, 60,
                   interval=0.2, message="prometheus to be ready")
        if self.proc.poll() is not None:
            raise AssertionError("prometheus exited:\n" + self.log())

    def _ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:  # a bad expression: 400 with the error
            return json.loads(e.read())

    def query(self, expr):
        body = self.api("query", query=expr)
        if body["status"] != "success":
            raise AssertionError(f"{expr}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]["result"]

    def value(self, expr):
        result = self.query(expr)
        return float(result[0]["value"][1]) if len(result) == 1 else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def dashboard_expressions():
    """(panel title, expr) of every target of every panel, rows' panels included."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []

    def walk(panels):
        for p in panels:
            walk(p.get("panels", []))
            for t in p.get("targets", []):
                out.append((p["title"], t["expr"]))

    walk(dash["panels"])
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            out.append((f"variable {v['name']}", v["definition"]))
    return out


def grafana_to_promql(expr, rate_interval):
    """What Grafana would send: its variables replaced, as with "All" picked."""
    m = re.fullmatch(r"label_values\((.*), *(\w+)\)", expr)
    if m:  # a template variable's query: the series it reads labels from
        expr = m.group(1)
    expr = expr.replace("$__rate_interval", rate_interval)
    return re.sub(r"\$\w+", ".*", expr)


class PromtoolTest(unittest.TestCase):
    """The rules and their unit tests; no chgate needed."""

    def test_the_alert_rules_load_and_pass_their_unit_tests(self):
        if not shutil.which("promtool"):
            self.fail("promtool is not installed: deploy/install-deps.sh installs prometheus")
        done = promtool("check", "rules", RULES)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("SUCCESS", done.stdout)
        done = promtool("test", "rules", RULE_TESTS)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        # Every alert has a unit test.
        with open(RULES) as f:
            alerts = set(re.findall(r"- alert: (\w+)", f.read()))
        with open(RULE_TESTS) as f:
            tested = set(re.findall(r"alertname: (\w+)", f.read()))
        self.assertEqual(alerts - tested, set())


class PrometheusTest(IntegrationTest):
    SCHEMA = {"events": "id String, n UInt32", "orders": COLUMNS}

    def gate(self):
        return self.start({"events": FAST, "orders": FAST}, storage={"max_disk": "1GiB"},
                          auth={"tokens": [{"name": "app", "token": TOKEN}]})

    def test_promtool_accepts_the_exposition(self):
        g = self.gate()
        self.assertEqual(g.post_events("events", [{"id": "a", "n": 1}], AUTH).status, 202)
        self.wait_for_count("events", 1)
        text = g.request("GET", "/metrics/prometheus").body
        done = promtool("check", "metrics", stdin=text)
        # Exit 0 and no lint: each family once, with HELP and TYPE, counters in _total.
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual(done.stdout + done.stderr, "")
        families = re.findall(r"^# TYPE (\S+) ", text, re.M)
        self.assertEqual(len(families), len(set(families)), "a family twice")

    def test_prometheus_scrapes_chgate_and_the_dashboard_expressions_evaluate(self):
        g = self.gate()
        # Prometheus' own scraper on /metrics: its Accept header gets the text.
        prom = Prometheus(f"127.0.0.1:{g.port}")
        self.addCleanup(prom.stop)
        loader = Loader(g.port, "events", threads=4, per_request=10, pause=0.01, headers=AUTH)
        loader.start()
        time.sleep(4)
        loader.join()
        for i in range(7):
            self.assertEqual(g.post_events("orders", {"id": i, "note": "o"}, AUTH).status, 202)
        self.wait_for_count("events", len(loader.acked), timeout=30)
        self.wait_for_count("orders", 7)
        self.assertGreater(len(loader.acked), 100)

        # The series are there, labelled, with the values /metrics gives.
        wait_until(lambda: prom.value('up{job="chgate"}') == 1, 30, interval=0.5,
                   message="the scrape to succeed")
        m = g.metrics()
        instance = f"127.0.0.1:{g.port}"
        for table, rows in (("events", len(loader.acked)), ("orders", 7)):
            self.assertEqual(m["tables"][table]["rows_inserted"], rows)
            expr = f'chgate_rows_inserted_total{{job="chgate",instance="{instance}",table="{table}"}}'
            wait_until(lambda: prom.value(expr) == rows, 30, interval=0.5,
                       message=f"Prometheus to see {rows} rows inserted into {table}")
        batches = m["tables"]["events"]["batches_inserted"]
        wait_until(lambda: prom.value('chgate_batches_inserted_total{table="events"}') == batches,
                   30, interval=0.5, message="the batch count")
        self.assertEqual(prom.value('chgate_table_ack_level{table="events",ack="durable"}'), 1)
        self.assertEqual(prom.value("chgate_clickhouse_reachable"), 1)
        server = prom.query("chgate_clickhouse_server_reachable")
        self.assertEqual([s["metric"]["server"] for s in server], [self.ch.url])
        self.assertEqual(prom.value(f'chgate_clickhouse_server_breaker{{state="closed"}}'), 1)
        self.assertEqual(prom.value("chgate_max_disk_bytes"), 1 << 30)
        self.assertEqual(prom.value("chgate_readiness_max_lag_seconds"), 300)

        # The rules load and evaluate against real series.
        rules = prom.api("rules")["data"]["groups"]
        self.assertEqual([r["name"] for r in rules], ["chgate"])
        wait_until(lambda: all(r.get("lastEvaluation", "").startswith("20")
                               for r in prom.api("rules")["data"]["groups"][0]["rules"]),
                   30, interval=0.5, message="every rule evaluated")
        for rule in prom.api("rules")["data"]["groups"][0]["rules"]:
            self.assertEqual(rule["health"], "ok", rule)
        self.assertEqual(prom.api("alerts")["data"]["alerts"], [])

        # Every dashboard expression is valid PromQL over names chgate has,
        # and returns series here unless it needs a cluster.
        exposed = set(re.findall(r"^# TYPE (\S+) ", g.request("GET", "/metrics/prometheus").body,
                                 re.M))
        with open(os.path.join(SOURCE, "src", "metrics", "MetricsPrometheus.cpp")) as f:
            source = f.read()
        # Rates need a few scrapes: at least 5 in the window they are taken over.
        wait_until(lambda: prom.value('count_over_time(up{job="chgate"}[10s])') >= 5, 30,
                   interval=0.5, message="5 scrapes")
        expressions = dashboard_expressions()
        self.assertGreater(len(expressions), 30)
        for title, expr in expressions:
            promql = grafana_to_promql(expr, "10s")
            result = prom.query(promql)
            for name in set(re.findall(r"\bchgate_\w+", promql)):
                if name.startswith(CLUSTER_ONLY):
                    base = name[len("chgate_"):]
                    self.assertIn(f'"{base}"', source, f"{title}: {name} is not a chgate family")
                else:
                    self.assertIn(name, exposed, f"{title}: {name} is not a chgate family")
            if not any(name in promql for name in CLUSTER_ONLY):
                self.assertTrue(result, f"{title}: {promql} returned nothing")

        # A reload that fails fires ChgateReloadFailed.
        with open(g.config_path, "w") as f:
            f.write("batching: {tables: {events: {strategy: nope}}}\n")
        g.proc.send_signal(signal.SIGHUP)

        def firing():
            alerts = prom.api("alerts")["data"]["alerts"]
            return [a["labels"]["alertname"] for a in alerts if a["state"] == "firing"]

        wait_until(lambda: firing() == ["ChgateReloadFailed"], 30, interval=0.5,
                   message="ChgateReloadFailed to fire")


if __name__ == "__main__":
    unittest.main()
