#include <catch2/catch.hpp>

#include "app/Status.hpp"

using namespace chgate::app;
using json = nlohmann::json;

namespace {

json metrics(std::uint64_t accepted, std::uint64_t batches) {
    return json::parse(R"({
      "batching": {"queued_items": 120, "memory_usage_mb": 1.5},
      "calculated": {"events_per_second": 42.5},
      "server": {"connections": 3},
      "storage": {"spool_bytes": 2048, "dead_letters": {"rows": 7}},
      "tables": {
        "events": {"strategy": "hybrid", "ack": "durable", "rows_accepted": )" +
                       std::to_string(accepted) + R"(, "batches_inserted": )" +
                       std::to_string(batches) + R"(,
                   "buffered_rows": 100, "pending_rows": 20, "oldest_pending_age_ms": 1500,
                   "held": false, "spool": {"rows": 0}, "rows_dead_lettered": 7,
                   "rows_quarantined_ingest": 2, "rows_quarantined_insert": 1,
                   "failed_batches": 4},
        "orders": {"strategy": "size", "ack": "buffered", "held": true,
                   "held_reason": "Code 60: table missing", "spool": {"rows": 9}}
      },
      "clickhouse": {"replicas": [
          {"url": "http://ch1:8123", "reachable": true, "version": "18.16.1",
           "circuit_breaker": "closed", "consecutive_failures": 0},
          {"url": "http://ch2:8123", "reachable": false, "version": null,
           "circuit_breaker": "open", "consecutive_failures": 5}],
        "shards": [{"shard": 1, "reachable": false, "replicas": ["http://ch2:8123"]}]}
    })");
}

}  // namespace

TEST_CASE("the status view takes rates between two readings") {
    const auto readyz = json::parse(R"({"ready": false, "reason": "table orders is held"})");
    auto v = make_status_view(metrics(1500, 12), metrics(1000, 10), 2.0, readyz);
    CHECK_FALSE(v.ready);
    CHECK(v.not_ready_reason == "table orders is held");
    CHECK(v.events_per_second == 42.5);
    CHECK(v.queued_rows == 120);
    CHECK(v.spool_bytes == 2048);
    CHECK(v.dead_letter_rows == 7);
    REQUIRE(v.tables.size() == 2);
    const auto& events = v.tables[0];
    CHECK(events.name == "events");
    CHECK(events.events_per_second == 250);
    CHECK(events.batches_per_second == 1);
    CHECK(events.quarantined == 3);
    CHECK(v.tables[1].held);
    CHECK(v.tables[1].spool_rows == 9);
    REQUIRE(v.servers.size() == 2);
    CHECK(v.servers[1].breaker == "open");
    REQUIRE(v.shards.size() == 1);
    CHECK_FALSE(v.shards[0].reachable);
    // No earlier reading, a counter gone backwards (a restart): rates are 0.
    v = make_status_view(metrics(1500, 12), json(), 0, readyz);
    CHECK(v.tables[0].events_per_second == 0);
    v = make_status_view(metrics(10, 1), metrics(1000, 10), 1.0, readyz);
    CHECK(v.tables[0].events_per_second == 0);
}

TEST_CASE("anything missing or of the wrong kind reads as zero, not as a crash") {
    const auto v = make_status_view(json::parse(R"({"tables": {"t": {"rows_accepted": "x",
        "spool": 5}}, "clickhouse": {"replicas": [1, {"url": 2}]}})"),
                                    json::parse("[]"), 1.0, json::parse("null"));
    REQUIRE(v.tables.size() == 1);
    CHECK(v.tables[0].spool_rows == 0);
    CHECK(v.servers.size() == 2);
    CHECK(v.servers[1].url.empty());
    CHECK_FALSE(v.ready);
}

TEST_CASE("the text screen has a row per table and per server, within its width") {
    auto v = make_status_view(metrics(1500, 12), metrics(1000, 10), 2.0,
                              json::parse(R"({"ready": true})"));
    v.url = "http://127.0.0.1:8080";
    const auto text = render_status_text(v, 100);
    CHECK_THAT(text, Catch::Contains("ready"));
    CHECK_THAT(text, Catch::Contains("events/s 42.5"));
    CHECK_THAT(text, Catch::Contains("events") && Catch::Contains("250.0"));
    CHECK_THAT(text, Catch::Contains("orders is held: Code 60: table missing"));
    CHECK_THAT(text, Catch::Contains("http://ch2:8123") && Catch::Contains("NO"));
    CHECK_THAT(text, Catch::Contains("shard 1: UNREACHABLE"));
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        CHECK(end - start <= 100);
        start = end + 1;
    }
    const auto j = render_status_json(v);
    CHECK(j["ready"] == true);
    CHECK(j["tables"][0]["events_per_second"] == 250.0);
    CHECK(j["tables"][1]["held_reason"] == "Code 60: table missing");
    CHECK(j["clickhouse"]["servers"][1]["version"].is_null());
    CHECK(j["clickhouse"]["shards"][0]["shard"] == 1);
}

TEST_CASE("long operations from /readyz are shown in words, on screen and in JSON") {
    const auto readyz = json::parse(R"({"ready": false,
      "reason": "replaying the write-ahead log",
      "progress": [
        {"operation": "wal_replay", "rows_done": 1000, "rows_left": 3000,
         "rows_left_estimated": true, "rows_per_second": 500, "eta_seconds": 6,
         "elapsed_seconds": 2},
        {"operation": "spool_drain", "table": "db.events", "rows_done": 0, "rows_left": 10,
         "rows_left_estimated": false, "rows_per_second": 0, "eta_seconds": null,
         "elapsed_seconds": 0.5}]})");
    auto v = make_status_view(metrics(1500, 12), metrics(1000, 10), 2.0, readyz);
    REQUIRE(v.progress.size() == 2);
    CHECK(v.progress[0].left_estimated);
    CHECK(v.progress[0].eta_seconds == 6.0);
    CHECK_FALSE(v.progress[1].eta_seconds);
    const auto text = render_status_text(v, 200);
    CHECK_THAT(text,
               Catch::Contains("replaying the write-ahead logs: 1,000 rows done, about 3,000 left "
                               "(25%), 500 rows/s, about 6 s left"));
    CHECK_THAT(text, Catch::Contains("draining the spool of db.events: 0 rows done, 10 left (0%), "
                                     "0 rows/s, time left unknown yet"));
    const auto j = render_status_json(v);
    REQUIRE(j["progress"].size() == 2);
    CHECK(j["progress"][0]["operation"] == "wal_replay");
    CHECK(j["progress"][0]["table"].is_null());
    CHECK(j["progress"][1]["table"] == "db.events");
    CHECK(j["progress"][1]["eta_seconds"].is_null());

    // Of the wrong kind: read as nothing, or as zero, never a crash.
    v = make_status_view(metrics(1, 1), json(), 0,
                         json::parse(R"({"progress": [7, {"operation": 3, "rows_done": "x"}]})"));
    REQUIRE(v.progress.size() == 2);
    CHECK(v.progress[1].rows_done == 0);
    CHECK(make_status_view(metrics(1, 1), json(), 0, json::parse(R"({"progress": {}})"))
              .progress.empty());
    CHECK(render_status_json(make_status_view(json(), json(), 0, json()))["progress"].empty());
}

TEST_CASE("nothing read from the server can drive the terminal") {
    // A ClickHouse error quotes the row a client sent: escapes and all.
    auto metrics_json = metrics(1500, 12);
    metrics_json["tables"]["orders"]["held_reason"] = "Code 27: at row 1: \x1b]0;owned\x07\x1b[2J";
    metrics_json["tables"]["\x1b[31mred"] = {{"strategy", "size\r"}, {"ack", "buffered"}};
    const auto readyz = json::parse(R"({"ready": false, "reason": "held\u001b[2J",
      "progress": [{"operation": "x\u001b[H", "table": "t\u0007"}]})");
    auto v = make_status_view(metrics_json, metrics(1000, 10), 2.0, readyz);
    const auto text = render_status_text(v, 200);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\x07') == std::string::npos);
    CHECK(text.find('\r') == std::string::npos);
    CHECK_THAT(text, Catch::Contains("Code 27: at row 1: \\x1b]0;owned\\x07\\x1b[2J"));
    CHECK_THAT(text, Catch::Contains("NOT READY: held\\x1b[2J"));
}
