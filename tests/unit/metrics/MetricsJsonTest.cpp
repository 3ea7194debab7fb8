#include <catch2/catch.hpp>

#include "metrics/MetricsJson.hpp"

using namespace chgate;
using namespace chgate::metrics;

namespace {

TableSnapshot table(const std::string& name) {
    TableSnapshot t;
    t.name = name;
    t.strategy = "hybrid";
    t.compression = "gzip";
    t.priority = 3;
    t.thresholds.max_batch_size = 1000;
    t.thresholds.current_batch_size = 1000;
    t.thresholds.max_batch_time = std::chrono::milliseconds(2000);
    return t;
}

std::vector<std::string> keys(const nlohmann::ordered_json& j) {
    std::vector<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it)
        out.push_back(it.key());
    return out;
}

}  // namespace

TEST_CASE(
    "the JSON has exactly the specified keys in their order, plus tables, server, reloads "
    "and auth") {
    GatewaySnapshot g;
    const auto j = render_metrics_json(g);
    CHECK(keys(j) == std::vector<std::string>{"batching", "calculated", "tables", "server",
                                              "reloads", "auth"});
    CHECK(j["reloads"] == nlohmann::ordered_json::parse(
                              R"({"applied":0,"failed":0,"last_ok":true,"last_at":null})"));
    CHECK(keys(j["batching"]) == std::vector<std::string>{"enabled", "total_batches", "total_items",
                                                          "failed_batches", "avg_batch_size",
                                                          "avg_flush_latency_ms", "queued_items",
                                                          "memory_usage_mb", "last_flush_time"});
    CHECK(keys(j["calculated"]) == std::vector<std::string>{"batch_success_rate",
                                                            "avg_items_per_batch",
                                                            "events_per_second"});
    // Nothing sent yet: a perfect record, and no flush time.
    CHECK(j["calculated"]["batch_success_rate"] == 1.0);
    CHECK(j["batching"]["last_flush_time"].is_null());
    CHECK(j["batching"]["avg_batch_size"] == 0);
}

TEST_CASE("gateway figures add up the tables") {
    GatewaySnapshot g;
    g.enabled = true;
    g.memory_bytes = 45 * 1024 * 1024;
    g.events_per_second = 2840.54;
    auto a = table("events");
    a.counts.batches_inserted = 15000;
    a.counts.rows_inserted = 1'500'000;
    a.counts.failed_attempts = 10;
    a.counts.flush_latency_ms_sum = 15000 * 25;
    a.counts.buffered_rows = 200;
    a.counts.pending_rows = 34;
    a.counts.last_flush_unix_ms = 1'705'314'615'000;  // 2024-01-15T10:30:15Z
    auto b = table("payments");
    b.counts.batches_inserted = 420;
    b.counts.rows_inserted = 42'000;
    b.counts.failed_attempts = 2;
    b.counts.flush_latency_ms_sum = 420 * 25;
    b.counts.last_flush_unix_ms = 1'705'314'000'000;
    g.tables = {a, b};

    const auto j = render_metrics_json(g);
    const auto& batching = j["batching"];
    CHECK(batching["enabled"] == true);
    CHECK(batching["total_batches"] == 15420);
    CHECK(batching["total_items"] == 1'542'000);
    CHECK(batching["failed_batches"] == 12);
    CHECK(batching["avg_batch_size"] == 100);
    CHECK(batching["avg_flush_latency_ms"] == 25);
    CHECK(batching["queued_items"] == 234);
    CHECK(batching["memory_usage_mb"] == 45.0);
    CHECK(batching["last_flush_time"] == "2024-01-15T10:30:15Z");
    const auto& calc = j["calculated"];
    CHECK(calc["batch_success_rate"] == Approx(0.9992));
    CHECK(calc["avg_items_per_batch"] == 100.0);
    CHECK(calc["events_per_second"] == Approx(2840.5));
}

TEST_CASE("each table shows its strategy thresholds and counters") {
    GatewaySnapshot g;
    auto t = table("events");
    t.counts.rows_accepted = 10;
    t.counts.seals[1] = 4;  // size
    t.max_memory = 10 * 1024 * 1024;
    g.tables = {t};
    const auto j = render_metrics_json(g)["tables"]["events"];
    CHECK(j["strategy"] == "hybrid");
    CHECK(j["thresholds"]["max_batch_size"] == 1000);
    CHECK(j["thresholds"]["max_batch_time_ms"] == 2000);
    CHECK(j["thresholds"]["max_memory_bytes"] == 10 * 1024 * 1024);
    CHECK(j["rows_accepted"] == 10);
    CHECK(j["seals"]["size"] == 4);
    CHECK(j["seals"]["time"] == 0);
    for (auto key : {"priority",          "compression",          "retry_attempts",
                     "requests_accepted", "bytes_accepted",       "requests_rejected_full",
                     "buffered_rows",     "buffered_bytes",       "pending_rows",
                     "pending_bytes",     "memory_bytes",         "batches_inserted",
                     "rows_inserted",     "bytes_inserted",       "bytes_sent",
                     "failed_batches",    "batches_dropped",      "rows_dropped",
                     "avg_batch_size",    "avg_flush_latency_ms", "last_flush_latency_ms",
                     "last_flush_time"}) {
        INFO(key);
        CHECK(j.contains(key));
    }
}

TEST_CASE("a sharded table lists its shards; others have no shards key") {
    GatewaySnapshot g;
    g.tables.push_back(table("plain"));
    auto t = table("events");
    t.shards = {{1, 600, 3, 590, 0, 0, false}, {2, 400, 0, 0, 7, 350, true}};
    g.tables.push_back(t);
    const auto j = render_metrics_json(g);
    CHECK_FALSE(j["tables"]["plain"].contains("shards"));
    const auto& shards = j["tables"]["events"]["shards"];
    REQUIRE(shards.size() == 2);
    CHECK(keys(shards[0]) == std::vector<std::string>{"shard", "rows_accepted", "batches_inserted",
                                                      "rows_inserted", "failed_attempts",
                                                      "rows_spooled", "held"});
    CHECK(shards[0]["rows_inserted"] == 590);
    CHECK(shards[1]["shard"] == 2);
    CHECK(shards[1]["rows_spooled"] == 350);
    CHECK(shards[1]["held"] == true);
}
