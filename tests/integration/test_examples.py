"""The three example deployments of config/examples, each run as shipped
(only the addresses, the database and the storage directory changed): their
tables created, their clients' traffic sent, and the rows and the
materialized views' results checked in ClickHouse."""

import json
import os
import random
import sys
import tempfile
import threading
import unittest

import yaml

import harness
from harness import IntegrationTest, wait_until

SQL_DIR = os.path.join(harness.SOURCE_DIR or "", "deploy", "sql", "examples")
sys.path.insert(0, os.path.join(harness.SOURCE_DIR or "", "loadtest"))
import example_traffic as traffic  # noqa: E402  (the loadtest scenarios' traffic)


class ExampleTest(IntegrationTest):
    @classmethod
    def setUpClass(cls):
        # ClickHouse's views do most of the work here; the sanitizer part's
        # time goes to tests of chgate's own concurrency.
        if harness.SANITIZED:
            raise unittest.SkipTest("not under the sanitizers (deploy/test.sh keeps CI under 45 min)")
        super().setUpClass()

    def start_example(self, name, tokens):
        """chgate with config/examples/`name`.yaml, in the test's database."""
        with open(os.path.join(harness.SOURCE_DIR, "config", "examples", f"{name}.yaml")) as f:
            cfg = yaml.safe_load(f)
        cfg["clickhouse"]["database"] = self.db
        cfg["clickhouse"]["probe_interval"] = "500ms"
        cfg["storage"] = {"dir": tempfile.mkdtemp(prefix="chgate-it-storage-")}
        cfg.setdefault("server", {})["threads"] = 2
        env = {"CHGATE_LISTEN": "127.0.0.1:0", "CLICKHOUSE_URL": self.ch.url, "CHGATE_SQL_DIR": SQL_DIR}
        env.update(tokens)
        gate = harness.Chgate(json.dumps(cfg), env=env)
        self.addCleanup(self.assert_no_sanitizer_report, gate)
        self.addCleanup(gate.__exit__)
        self.addCleanup(self._dump_log_on_failure, gate)
        return gate

    def post(self, gate, table, rows, token):
        body = "\n".join(json.dumps(r) for r in rows) + "\n"
        r = gate.request("POST", f"/v1/events/{table}", body,
                         {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
        self.assertEqual(r.status, 202, r)

    def same(self, mv_sql, base_sql):
        self.assertEqual(self.ch.query(mv_sql), self.ch.query(base_sql))

    def tables_exist(self, names):
        shown = set(self.ch.query(f"SHOW TABLES FROM `{self.db}`").split())
        return set(names) <= shown

    def test_analytics_events_and_orders_fill_the_materialized_views(self):
        streamer, loader = "streamer-token-7f3a9c2e51b84d06", "loader-token-0c6e2b9a47d15f38"
        g = self.start_example("analytics", {"ANALYTICS_STREAMER_TOKEN": streamer,
                                             "ANALYTICS_LOADER_TOKEN": loader})
        views = ["mv_hourly_events", "mv_user_funnel", "mv_country_stats", "daily_user_activity",
                 "mv_product_revenue"]
        wait_until(lambda: self.tables_exist(["events", "orders", "users", "products"] + views), 30,
                   message="the example's tables and views")
        rnd = random.Random(5)
        # The bulk load: 10k users and 1k products, then the streamer's events and orders.
        for start in range(0, 10_000, 2_500):
            self.post(g, "users", traffic.users(start, 2_500, rnd), loader)
        self.post(g, "products", traffic.products(1_000), loader)
        events, orders = traffic.events(0, 3_000, rnd), traffic.orders(0, 600, rnd)
        for start in range(0, len(events), 100):  # the streamer's requests: 100 events, 20 orders
            self.post(g, "events", events[start:start + 100], streamer)
            self.post(g, "orders", orders[start // 5:start // 5 + 20], streamer)
        for table, n in (("users", 10_000), ("products", 1_000), ("events", 3_000), ("orders", 600)):
            self.wait_for_count(table, n, timeout=30)
        # Each view's answer is the answer of the table it summarises.
        db = self.db
        self.same(f"SELECT event_date, event_hour, event_type, sum(event_count), uniqMerge(unique_users), "
                  f"round(sum(total_revenue), 2) FROM `{db}`.mv_hourly_events "
                  f"GROUP BY event_date, event_hour, event_type ORDER BY event_date, event_hour, event_type FORMAT TSV",
                  f"SELECT toDate(event_timestamp) AS d, toHour(event_timestamp) AS h, event_type, count(), "
                  f"uniq(user_id), round(sum(revenue), 2) FROM `{db}`.events GROUP BY d, h, event_type "
                  f"ORDER BY d, h, event_type FORMAT TSV")
        self.same(f"SELECT countMerge(total_events), sumMerge(page_views), sumMerge(carts), sumMerge(purchases) "
                  f"FROM `{db}`.mv_user_funnel FORMAT TSV",
                  f"SELECT count(), countIf(event_type = 'page_view'), countIf(event_type = 'add_to_cart'), "
                  f"countIf(event_type = 'purchase') FROM `{db}`.events FORMAT TSV")
        self.same(f"SELECT country, sum(event_count), uniqMerge(unique_users), round(sum(revenue), 2), "
                  f"sum(purchase_count) FROM `{db}`.mv_country_stats GROUP BY country ORDER BY country FORMAT TSV",
                  f"SELECT country, count(), uniq(user_id), round(sum(revenue), 2), countIf(event_type = 'purchase') "
                  f"FROM `{db}`.events GROUP BY country ORDER BY country FORMAT TSV")
        self.same(f"SELECT count(), sum(n), sum(kinds) FROM (SELECT user_id, sum(activity_count) AS n, "
                  f"uniqMerge(event_types_used) AS kinds FROM `{db}`.daily_user_activity GROUP BY user_id, "
                  f"activity_date) FORMAT TSV",
                  f"SELECT count(), sum(n), sum(kinds) FROM (SELECT user_id, count() AS n, uniq(event_type) AS kinds "
                  f"FROM `{db}`.events GROUP BY user_id, toDate(event_timestamp)) FORMAT TSV")
        self.same(f"SELECT status, sum(order_count), sum(total_quantity), round(sum(total_revenue), 2), "
                  f"round(avgMerge(avg_order_value), 4) FROM `{db}`.mv_product_revenue GROUP BY status "
                  f"ORDER BY status FORMAT TSV",
                  f"SELECT status, count(), sum(quantity), round(sum(amount), 2), round(avg(amount), 4) "
                  f"FROM `{db}`.orders GROUP BY status ORDER BY status FORMAT TSV")
        # The tokens keep to their tables.
        r = g.request("POST", "/v1/events/users", "{}", {"Authorization": f"Bearer {streamer}"})
        self.assertEqual(r.status, 403, r)

    def test_metrics_series_fill_their_hourly_rollups(self):
        collectors, billing = "collector-token-4e81b07c2d9f6a35", "billing-token-93d2c5a0e7b14f68"
        g = self.start_example("metrics", {"METRICS_COLLECTOR_TOKEN": collectors,
                                           "METRICS_BILLING_TOKEN": billing})
        rollups = ["performance_metrics_hourly", "resource_metrics_hourly", "cost_metrics_hourly",
                   "quality_metrics_hourly"]
        wait_until(lambda: self.tables_exist(rollups), 30, message="the example's rollups")
        rnd = random.Random(9)
        sizes = {"performance_metrics_ts": 2_500, "resource_metrics_ts": 1_200, "cost_metrics_ts": 300,
                 "quality_metrics_ts": 1_500}
        # Writers send batches of 100 to 1000 rows.
        for table, n in sizes.items():
            rows, token = traffic.metrics(table, 0, n, rnd), billing if table == "cost_metrics_ts" else collectors
            start = 0
            while start < len(rows):
                n = rnd.randrange(100, 1001)
                self.post(g, table, rows[start:start + n], token)
                start += n
            self.wait_for_count(table, len(rows), timeout=30)
        db = self.db
        self.same(f"SELECT customer_id, countMerge(requests), sumMerge(tokens), round(avgMerge(avg_latency_ms), 3) "
                  f"FROM `{db}`.performance_metrics_hourly GROUP BY customer_id ORDER BY customer_id FORMAT TSV",
                  f"SELECT customer_id, count(), sum(total_tokens), round(avg(latency_ms), 3) "
                  f"FROM `{db}`.performance_metrics_ts GROUP BY customer_id ORDER BY customer_id FORMAT TSV")
        self.same(f"SELECT instance_id, countMerge(samples), maxMerge(max_gpu_temperature), "
                  f"maxMerge(max_memory_used_gb) FROM `{db}`.resource_metrics_hourly GROUP BY instance_id "
                  f"ORDER BY instance_id FORMAT TSV",
                  f"SELECT instance_id, count(), max(gpu_temperature), max(memory_used_gb) "
                  f"FROM `{db}`.resource_metrics_ts GROUP BY instance_id ORDER BY instance_id FORMAT TSV")
        self.same(f"SELECT service_name, round(sumMerge(cost), 4), sumMerge(spot_instances) "
                  f"FROM `{db}`.cost_metrics_hourly GROUP BY service_name ORDER BY service_name FORMAT TSV",
                  f"SELECT service_name, round(sum(cost_per_hour), 4), sum(is_spot) "
                  f"FROM `{db}`.cost_metrics_ts GROUP BY service_name ORDER BY service_name FORMAT TSV")
        self.same(f"SELECT model_name, countMerge(requests), sumMerge(hallucinations), maxMerge(max_toxicity) "
                  f"FROM `{db}`.quality_metrics_hourly GROUP BY model_name ORDER BY model_name FORMAT TSV",
                  f"SELECT model_name, count(), sum(hallucination_detected), max(toxicity_score) "
                  f"FROM `{db}`.quality_metrics_ts GROUP BY model_name ORDER BY model_name FORMAT TSV")
        # Hourly: one rollup row per customer, service, model and hour at most.
        hours = int(self.ch.query(f"SELECT count() FROM (SELECT customer_id, service_id, model_name, hour "
                                  f"FROM `{db}`.performance_metrics_hourly GROUP BY customer_id, service_id, "
                                  f"model_name, hour)"))
        self.assertLessEqual(hours, 3 * 4 * 2 * 24)

    def test_orchestrator_tables_are_created_by_chgate_and_take_bursts(self):
        token = "dagster-token-61b0f4e8a2c95d73"
        g = self.start_example("dagster", {"DAGSTER_TOKEN": token})
        wait_until(lambda: self.tables_exist(["event_logs", "asset_keys"]), 30,
                   message="chgate to create the example's tables")
        self.assertIn("ReplacingMergeTree(last_materialization_timestamp)",
                      self.ch.query(f"SHOW CREATE TABLE `{self.db}`.asset_keys"))
        # Bursts of small messages from several writers at once.
        errors = []

        def writer(w):
            try:
                for burst in range(25):
                    rows = traffic.run_events(w, burst, 1 + burst % 5)
                    self.post(g, "event_logs", rows, token)
            except AssertionError as e:
                errors.append(e)
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.wait_for_count("event_logs", 4 * sum(1 + b % 5 for b in range(25)), timeout=30)
        # Materialisations: the latest of each asset wins.
        for n in range(3):
            self.post(g, "asset_keys", traffic.materializations(n), token)
        self.wait_for_count("asset_keys", 15, timeout=30)
        self.assertEqual(self.ch.query(f"SELECT asset_key, last_run_id FROM `{self.db}`.asset_keys FINAL "
                                       f"ORDER BY asset_key FORMAT TSV"),
                         "".join(f"a{k}\trun2\n" for k in range(5)))
        m = g.metrics()["tables"]["event_logs"]
        self.assertLessEqual(m["thresholds"]["current_batch_size"], 100)
