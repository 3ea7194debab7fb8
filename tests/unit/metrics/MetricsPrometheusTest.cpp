#include <catch2/catch.hpp>

#include "metrics/MetricsPrometheus.hpp"

using namespace chgate;
using namespace chgate::metrics;

namespace {

GatewaySnapshot snapshot() {
    GatewaySnapshot g;
    g.memory_bytes = 2048;
    g.max_memory = 1 << 20;
    g.has_storage = true;
    g.syncs = 7;
    g.sync_seconds = 0.25;
    g.failed_logs = {{"t", "write failed: File too large"}};
    TableSnapshot t;
    t.name = "events";
    t.ack = "durable";
    t.counts.rows_accepted = 1000;
    t.counts.rows_inserted = 990;
    t.held = true;
    t.oldest_pending_age_ms = 1500;
    g.tables.push_back(t);
    t.name = "db2.other\"x";  // quotes are escaped in label values
    t.ack = "buffered";
    t.counts.rows_accepted = 5;
    t.held = false;
    g.tables.push_back(t);
    return g;
}

ClickHouseUp up(bool reachable, int replicas, int replicas_reachable) {
    ClickHouseUp u;
    u.reachable = reachable;
    u.replicas = replicas;
    u.replicas_reachable = replicas_reachable;
    return u;
}

}  // namespace

TEST_CASE("the Prometheus text has typed families with a table label") {
    const auto text = render_metrics_prometheus(snapshot(), up(true, 2, 1));
    CHECK(text.find("# TYPE chgate_rows_accepted_total counter\n") != std::string::npos);
    CHECK(text.find("chgate_rows_accepted_total{table=\"events\"} 1000\n") != std::string::npos);
    CHECK(text.find("chgate_rows_accepted_total{table=\"db2.other\\\"x\"} 5\n") !=
          std::string::npos);
    CHECK(text.find("chgate_rows_inserted_total{table=\"events\"} 990\n") != std::string::npos);
    CHECK(text.find("# TYPE chgate_held gauge\n") != std::string::npos);
    CHECK(text.find("chgate_held{table=\"events\"} 1\n") != std::string::npos);
    CHECK(text.find("chgate_oldest_pending_age_seconds{table=\"events\"} 1.5\n") !=
          std::string::npos);
    CHECK(text.find("chgate_table_ack_level{table=\"events\",ack=\"durable\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("chgate_gateway_memory_bytes 2048\n") != std::string::npos);
    CHECK(text.find("chgate_wal_syncs_total 7\n") != std::string::npos);
    CHECK(text.find("chgate_wal_sync_seconds_total 0.25\n") != std::string::npos);
    CHECK(text.find("chgate_wal_failed_logs 1\n") != std::string::npos);
    CHECK(text.find("chgate_clickhouse_replicas_reachable 1\n") != std::string::npos);
}

TEST_CASE("storage metrics appear only with storage") {
    auto g = snapshot();
    g.has_storage = false;
    const auto text = render_metrics_prometheus(g, {});
    CHECK(text.find("chgate_wal_syncs_total") == std::string::npos);
    CHECK(text.find("chgate_clickhouse_reachable 0\n") != std::string::npos);
}

TEST_CASE("Prometheus gets text and curl and browsers get JSON") {
    CHECK(accept_wants_prometheus_text(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    CHECK(accept_wants_prometheus_text("text/plain"));
    CHECK(accept_wants_prometheus_text("Text/Plain; version=0.0.4"));
    CHECK_FALSE(accept_wants_prometheus_text(""));
    CHECK_FALSE(accept_wants_prometheus_text("*/*"));
    CHECK_FALSE(accept_wants_prometheus_text("application/json"));
    CHECK_FALSE(accept_wants_prometheus_text("application/json, text/plain, */*"));
    CHECK_FALSE(accept_wants_prometheus_text(
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
}

TEST_CASE("a sharded table's shards have families of their own, labelled table and shard") {
    auto g = snapshot();
    CHECK(render_metrics_prometheus(g, up(true, 2, 1)).find("chgate_shard_") == std::string::npos);
    g.tables[0].shards = {{1, 600, 3, 590, 0, 0, false}, {2, 400, 0, 0, 7, 350, true}};
    const auto text = render_metrics_prometheus(g, up(true, 2, 1));
    CHECK(text.find("# TYPE chgate_shard_rows_inserted_total counter\n") != std::string::npos);
    CHECK(text.find("chgate_shard_rows_accepted_total{table=\"events\",shard=\"2\"} 400\n") !=
          std::string::npos);
    CHECK(text.find("chgate_shard_rows_inserted_total{table=\"events\",shard=\"1\"} 590\n") !=
          std::string::npos);
    CHECK(text.find("chgate_shard_failed_attempts_total{table=\"events\",shard=\"2\"} 7\n") !=
          std::string::npos);
    CHECK(text.find("chgate_shard_rows_spooled_total{table=\"events\",shard=\"2\"} 350\n") !=
          std::string::npos);
    CHECK(text.find("chgate_shard_held{table=\"events\",shard=\"2\"} 1\n") != std::string::npos);
    CHECK(text.find("chgate_shard_held{table=\"events\",shard=\"1\"} 0\n") != std::string::npos);
}

TEST_CASE("each ClickHouse server has its probe and breaker state, each shard its reachability") {
    auto ch = up(true, 2, 1);
    ch.servers = {{"http://ch1:8123", true, "closed"}, {"http://ch2:8123", false, "open"}};
    ch.shards = {{1, true}, {2, false}};
    const auto text = render_metrics_prometheus(snapshot(), ch);
    CHECK(text.find("chgate_clickhouse_server_reachable{server=\"http://ch2:8123\"} 0\n") !=
          std::string::npos);
    CHECK(text.find("chgate_clickhouse_server_breaker{server=\"http://ch2:8123\",state=\"open\"} "
                    "1\n") != std::string::npos);
    CHECK(text.find("chgate_clickhouse_server_breaker{server=\"http://ch2:8123\",state=\"closed\"}"
                    " 0\n") != std::string::npos);
    CHECK(text.find("chgate_clickhouse_server_breaker{server=\"http://ch1:8123\",state=\"closed\"}"
                    " 1\n") != std::string::npos);
    CHECK(text.find("chgate_clickhouse_shard_reachable{shard=\"2\"} 0\n") != std::string::npos);
    // Without a cluster there is no shard family.
    ch.shards.clear();
    CHECK(render_metrics_prometheus(snapshot(), ch).find("chgate_clickhouse_shard_reachable") ==
          std::string::npos);
}

TEST_CASE("reloads are counted by outcome, and the readiness thresholds are shown") {
    auto g = snapshot();
    auto text = render_metrics_prometheus(g, {});
    CHECK(text.find("chgate_config_last_reload_successful 1\n") != std::string::npos);
    CHECK(text.find("chgate_config_reloads_total{outcome=\"failed\"} 0\n") != std::string::npos);
    g.reloads_applied = 3;
    g.reloads_failed = 1;
    g.last_reload_ok = false;
    g.last_reload_unix_ms = 1'700'000'000'500;
    g.readiness_max_lag_ms = 300'000;
    g.readiness_max_spool_bytes = 1 << 20;
    text = render_metrics_prometheus(g, {});
    CHECK(text.find("chgate_config_reloads_total{outcome=\"applied\"} 3\n") != std::string::npos);
    CHECK(text.find("chgate_config_reloads_total{outcome=\"failed\"} 1\n") != std::string::npos);
    CHECK(text.find("chgate_config_last_reload_successful 0\n") != std::string::npos);
    CHECK(text.find("chgate_config_last_reload_timestamp_seconds 1700000000.5\n") !=
          std::string::npos);
    CHECK(text.find("chgate_readiness_max_lag_seconds 300\n") != std::string::npos);
    CHECK(text.find("chgate_readiness_max_spool_bytes 1048576\n") != std::string::npos);
}
