#include <catch2/catch.hpp>

#include "batch/BatchManager.hpp"
#include "batch/QuarantineReplay.hpp"
#include "config/ConfigLoader.hpp"
#include "flush/FlushQueue.hpp"
#include "ingest/BodyDecoder.hpp"
#include "store/Storage.hpp"

using namespace chgate;
using namespace chgate::batch;
using namespace std::chrono_literals;

namespace {

config::ConfigPtr config_from(const std::string& yaml) {
    return config::load_config_text(yaml, "test.yaml",
                                    [](const std::string&) { return std::optional<std::string>(); })
        .config;
}

struct Fixture {
    explicit Fixture(const std::string& yaml)
        : config(config_from(yaml)),
          budget(config->batching.max_memory),
          rate(Clock::now()),
          manager(config, queue, budget, rate) {}

    Admission post(Route route, std::string_view body) {
        REQUIRE(route.buffer);
        std::vector<core::RowSlice> rows;
        ingest::DecodeError error;
        REQUIRE(ingest::decode_body(body, ingest::BodyFormat::detect, rows, error));
        return manager.append(*route.buffer, body, rows, Clock::now()).admission;
    }

    config::ConfigPtr config;
    flush::FlushQueue queue;
    MemoryBudget budget;
    core::RateWindow rate;
    BatchManager manager;
};

}  // namespace

TEST_CASE("configured tables exist from the start and others are refused") {
    Fixture f("batching: {tables: {events: {}, analytics.clicks: {}}}");
    CHECK(f.manager.registry().tables().size() == 2);
    CHECK(f.manager.registry().route("events").buffer);
    CHECK(f.manager.registry().route("default.events").buffer ==
          f.manager.registry().route("events").buffer);
    CHECK(f.manager.registry().route("analytics.clicks").buffer);
    CHECK(f.manager.registry().route("clicks").error == RouteError::unknown_table);
    CHECK(f.manager.registry().route("nope").error == RouteError::unknown_table);
    CHECK(f.manager.registry().route("bad-name").error == RouteError::bad_name);
    CHECK(f.manager.registry().route("a.b.c").error == RouteError::bad_name);
}

TEST_CASE("the same table with another column list gets its own buffer") {
    Fixture f("batching: {tables: {events: {}}}");
    const auto all = f.manager.registry().route({"", "events"}, {});
    const auto ab = f.manager.registry().route({"default", "events"}, {"a", "b"});
    const auto ab2 = f.manager.registry().route({"", "events"}, {"a", "b"});
    CHECK(all.buffer != ab.buffer);
    CHECK(ab.buffer == ab2.buffer);
    CHECK(&all.buffer->table() ==
          &ab.buffer->table());  // one table, one quota, one set of counters
}

TEST_CASE("unknown_tables: defaults serves new tables up to max_tables") {
    Fixture f("batching: {unknown_tables: defaults, max_tables: 2, defaults: {strategy: size}}");
    const auto a = f.manager.registry().route("a");
    REQUIRE(a.buffer);
    CHECK(a.buffer->table().config()->strategy == config::StrategyKind::size);
    CHECK(f.manager.registry().route("b").buffer);
    CHECK(f.manager.registry().route("c").error == RouteError::too_many_tables);
    CHECK(f.manager.registry().route("a").buffer == a.buffer);
}

TEST_CASE("sealed batches go to the flush queue and seal_all takes the rest") {
    Fixture f("batching: {tables: {t: {strategy: size, max_batch_size: 2}, u: {}}}");
    CHECK(f.post(f.manager.registry().route("t"), R"([{"a":1},{"a":2},{"a":3}])") == Admission::ok);
    CHECK(f.queue.size() == 1);
    CHECK(f.post(f.manager.registry().route("u"), R"({"a":1})") == Admission::ok);
    CHECK(f.queue.size() == 1);
    f.manager.seal_all(flush::FlushReason::shutdown);
    CHECK(f.queue.size() == 3);
}

TEST_CASE("batching disabled sends every request at once") {
    Fixture f("batching: {enabled: false, tables: {t: {strategy: hybrid, max_batch_size: 1000}}}");
    CHECK(f.manager.registry().route("t").buffer->table().config()->strategy ==
          config::StrategyKind::immediate);
    CHECK(f.post(f.manager.registry().route("t"), R"({"a":1})") == Admission::ok);
    CHECK(f.post(f.manager.registry().route("t"), R"({"a":1})") == Admission::ok);
    CHECK(f.queue.size() == 2);
}

TEST_CASE("the timer seals buffers when their time is up") {
    Fixture f("batching: {tables: {t: {strategy: hybrid, max_batch_time: 30ms}}}");
    f.manager.start();
    CHECK(f.post(f.manager.registry().route("t"), R"({"a":1})") == Admission::ok);
    const auto started = Clock::now();
    while (f.queue.size() == 0 && Clock::now() - started < std::chrono::seconds(5)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    f.manager.stop();
    REQUIRE(f.queue.size() == 1);
    f.queue.close();
    const auto b = f.queue.pop();
    REQUIRE(b);
    CHECK(b->reason == flush::FlushReason::time);
    CHECK(Clock::now() - started >= std::chrono::milliseconds(25));
}

TEST_CASE("a reload retunes a table in place and keeps its open rows") {
    Fixture f("batching: {tables: {t: {strategy: size, max_batch_size: 100, max_memory: 1MiB}}}");
    const auto t = f.manager.registry().route("t");
    CHECK(f.post(t, R"([{"a":1},{"a":2},{"a":3}])") == Admission::ok);
    CHECK(f.queue.size() == 0);
    const auto r = f.manager.retune(
        config_from("batching: {tables: {t: {strategy: size, max_batch_size: 2, max_memory: "
                    "2MiB, priority: 1}}}"),
        Clock::now());
    CHECK(r.retuned == std::vector<std::string>{"t"});
    CHECK(r.restart_needed.empty());
    // The open rows reach the new limit: sealed at once, none lost.
    REQUIRE(f.queue.size() == 1);
    auto b = f.queue.pop();
    REQUIRE(b);
    CHECK(b->row_count == 3);
    CHECK(b->priority == 1);
    CHECK(t.buffer->table().config()->max_batch_size == 2);
    CHECK(t.buffer->thresholds().max_batch_size == 2);
    CHECK(t.buffer->table().held_bytes() > 0);  // still held until the batch is done
    // The same buffer goes on with the new settings.
    CHECK(f.manager.registry().route("t").buffer == t.buffer);
    CHECK(f.post(t, R"([{"a":4},{"a":5}])") == Admission::ok);
    CHECK(f.queue.size() == 1);
    // An unchanged file retunes nothing.
    CHECK(f.manager
              .retune(config_from("batching: {tables: {t: {strategy: size, max_batch_size: 2, "
                                  "max_memory: 2MiB, priority: 1}}}"),
                      Clock::now())
              .retuned.empty());
}

TEST_CASE("a reload refuses removed tables, serves added ones and keeps the log choice") {
    Fixture f("batching: {tables: {t: {ack: buffered}, u: {}}}");
    REQUIRE(f.manager.registry().route("t").buffer);
    REQUIRE(f.manager.registry().route("u").buffer);
    const auto r = f.manager.retune(
        config_from("batching: {max_memory: 64MiB, tables: {t: {ack: durable}, v: {}}}"),
        Clock::now());
    CHECK(r.retired == std::vector<std::string>{"u"});
    REQUIRE(r.restart_needed.size() == 1);
    CHECK_THAT(r.restart_needed[0], Catch::Contains("batching.tables.t.ack: buffered to durable"));
    CHECK(f.manager.registry().route("t").buffer->table().config()->ack ==
          config::AckLevel::buffered);
    CHECK(f.manager.registry().route("u").error == RouteError::unknown_table);
    CHECK(f.manager.registry().route("v").buffer);
    CHECK(f.budget.limit() == 64ull << 20);
    // Configured again: served again.
    f.manager.retune(config_from("batching: {tables: {t: {ack: buffered}, u: {}}}"), Clock::now());
    CHECK(f.manager.registry().route("u").buffer);
}

TEST_CASE("a table opened only to deliver earlier rows refuses new requests") {
    Fixture f("batching: {tables: {t: {}}}");
    // As replay, the spool or dead-letter replay open it.
    const auto r = f.manager.registry().route_for_recovery({"", "gone", {}});
    REQUIRE(r.buffer);
    CHECK(f.post(r, R"({"a":1})") == Admission::ok);
    CHECK(f.manager.registry().route("gone").error == RouteError::unknown_table);
    CHECK(f.manager.registry().route_for_recovery({"", "gone", {}}).buffer == r.buffer);
    // Configured by a reload: served.
    f.manager.retune(config_from("batching: {tables: {t: {}, gone: {}}}"), Clock::now());
    CHECK(f.manager.registry().route("gone").buffer == r.buffer);
}

TEST_CASE("a table's column lists are capped by max_buffers_per_table") {
    Fixture f("batching: {max_buffers_per_table: 2, tables: {events: {}}}");
    CHECK(f.manager.registry().route({"", "events"}, {"a"}).buffer);
    CHECK(f.manager.registry().route({"", "events"}, {"b"}).buffer);
    CHECK(f.manager.registry().route({"", "events"}, {"c"}).error == RouteError::too_many_buffers);
    // The plain buffer and the lists it has still work.
    CHECK(f.manager.registry().route("events").buffer);
    CHECK(f.manager.registry().route({"", "events"}, {"a"}).buffer);
    // Rows accepted earlier (a replay) are delivered whatever the cap.
    CHECK(f.manager.registry().route_for_recovery({"", "events", {"d"}}).buffer);
}

TEST_CASE("idle buffers of column lists and of tables served by default are closed") {
    Fixture f(
        "batching: {unknown_tables: defaults, max_tables: 1, idle_buffer_ttl: 1m, "
        "max_buffers_per_table: 1, tables: {events: {}}}");
    f.manager.registry().set_ready();
    const auto now = Clock::now();
    {
        const auto cols = f.manager.registry().route({"", "events"}, {"a"});
        CHECK(f.post(cols, R"({"a":1})") == Admission::ok);
        CHECK(f.manager.registry().route({"", "events"}, {"b"}).error ==
              RouteError::too_many_buffers);
        CHECK(f.post(f.manager.registry().route("dyn"), R"({"a":1})") == Admission::ok);
        CHECK(f.manager.registry().route("other").error == RouteError::too_many_tables);
        // Not idle long enough, and holding rows: nothing goes.
        CHECK(f.manager.registry().close_idle_buffers(now + 2min) == 0);
        f.manager.seal_all(flush::FlushReason::admin);
    }
    // Sealed, the batches still hold their buffers: nothing goes.
    CHECK(f.manager.registry().close_idle_buffers(now + 2min) == 0);
    while (f.queue.size() > 0) {
        f.queue.close();
        (void)f.queue.pop();
    }
    CHECK(f.manager.registry().close_idle_buffers(now + 30s) == 0);   // not idle long enough
    CHECK(f.manager.registry().close_idle_buffers(now + 2min) == 2);  // events (a) and dyn
    // The configured table's plain buffer stays; the table made on the fly
    // went, with its max_tables slot, and its column list slot is free.
    CHECK(f.manager.registry().route("other").buffer);
    CHECK(f.manager.registry().route({"", "events"}, {"b"}).buffer);
    std::vector<std::string> names;
    for (const auto& t : f.manager.registry().tables())
        names.push_back(t->name());
    CHECK(names == std::vector<std::string>{"events", "other"});
}

namespace {
const char* kTwoShards = R"y(
clickhouse: {cluster: {shards: [{replicas: ["http://a"]}, {replicas: ["http://b"]}]}}
batching:
  max_buffers_per_table: 1
  idle_buffer_ttl: 1m
  tables:
    events: {shard_by: "cityHash64(k)", local_table: events_local, ack: buffered}
    plain: {ack: buffered}
)y";
}  // namespace

TEST_CASE("a table with shard_by routes clients to one buffer per shard") {
    Fixture f(kTwoShards);
    auto& registry = f.manager.registry();
    const auto r = registry.route("events");
    REQUIRE(r.shards);
    REQUIRE(r.shards->buffers.size() == 2);
    CHECK(r.buffer == r.shards->buffers.front());
    CHECK(r.shards->buffers[0]->shard() == 1);
    CHECK(r.shards->buffers[1]->shard() == 2);
    CHECK(r.shards->buffers[1]->label() == "events shard 2");
    CHECK(r.shards->buffers[1]->target().files.shard == 2);
    CHECK(registry.route("default.events").shards == r.shards);
    CHECK_FALSE(registry.route("plain").shards);
    // A column list gets its shards too, and counts once against the cap.
    const auto ab = registry.route({"", "events"}, {"a", "k"});
    REQUIRE(ab.shards);
    CHECK(ab.shards->buffers[1]->insert_query() ==
          "INSERT INTO `default`.`events_local` (`a`, `k`) FORMAT JSONEachRow");
    CHECK(registry.route({"", "events"}, {"b"}).error == RouteError::too_many_buffers);
}

TEST_CASE("rows of a shard come back to that shard, or to the table when it has no such shard") {
    Fixture f(kTwoShards);
    auto& registry = f.manager.registry();
    const auto shards = registry.route("events").shards;
    REQUIRE(shards);
    CHECK(registry.route_for_recovery({"default", "events", {}, 2}).buffer == shards->buffers[1]);
    // A shard the cluster lost, or rows logged before the table had shard_by:
    // to the table itself (its Distributed table places them).
    const auto lost = registry.route_for_recovery({"default", "events", {}, 3}).buffer;
    REQUIRE(lost);
    CHECK(lost->shard() == 0);
    CHECK(lost->insert_query() == "INSERT INTO `default`.`events` FORMAT JSONEachRow");
    CHECK(registry.route_for_recovery({"default", "events", {}, 0}).buffer == lost);
    CHECK(registry.route_for_recovery({"default", "plain", {}, 1}).buffer->shard() == 0);
    // Clients still get the shards, not the table's own buffer.
    CHECK(registry.route("events").shards == shards);
}

TEST_CASE("a reload that changes shard_by waits for a restart") {
    Fixture f(kTwoShards);
    const auto r = f.manager.retune(config_from(R"y(
clickhouse: {cluster: {shards: [{replicas: ["http://a"]}, {replicas: ["http://b"]}]}}
batching:
  tables:
    events: {shard_by: "k", local_table: events_local, ack: buffered, max_batch_size: 7}
    plain: {ack: buffered}
)y"),
                                    Clock::now());
    REQUIRE(r.restart_needed.size() == 1);
    CHECK_THAT(r.restart_needed[0], Catch::Contains("batching.tables.events.shard_by"));
    const auto& table = f.manager.registry().route("events").buffer->table();
    CHECK(table.config()->max_batch_size == 7);  // the rest applies
    CHECK(table.config()->shard_by->kind == core::ShardBy::Kind::city_hash);
    CHECK(table.sharding()->by.kind == core::ShardBy::Kind::city_hash);
}

TEST_CASE("new shards or weights place new rows; rows placed before keep their buffers") {
    Fixture f(kTwoShards);
    auto& registry = f.manager.registry();
    const auto before = registry.route("events");
    REQUIRE(before.shards);
    REQUIRE(before.shards->sharding->shards() == 2);
    registry.reshard({1, 1, 2});
    const auto after = registry.route("events");
    REQUIRE(after.shards);
    CHECK(after.shards != before.shards);
    REQUIRE(after.shards->buffers.size() == 3);
    CHECK(after.shards->sharding->slots->total_weight() == 4);
    // Shards that stay keep their buffers (their rows and logs).
    CHECK(after.shards->buffers[0] == before.shards->buffers[0]);
    CHECK(after.shards->buffers[2]->label() == "events shard 3");
    // A request under way keeps the sharding it was routed with.
    CHECK(before.shards->sharding->shards() == 2);
    const auto& table = after.buffer->table();
    CHECK(table.shards_seen() == 3);
    // Fewer shards: the third's buffer still holds what it has and sends it
    // to that shard; its counters stay in /metrics.
    registry.reshard({1, 1});
    CHECK(registry.route("events").shards->buffers.size() == 2);
    CHECK(registry.route_for_recovery({"default", "events", {}, 3}).buffer ==
          after.shards->buffers[2]);
    CHECK(table.shards_seen() == 3);
    // Unknown shards (discover has had no answer): clients wait.
    registry.reshard({});
    CHECK(registry.route("events").error == RouteError::no_shards);
    CHECK_FALSE(registry.route("plain").error == RouteError::no_shards);
}

TEST_CASE("idle shard buffers of a column list close, and a request makes them anew") {
    Fixture f(kTwoShards);
    auto& registry = f.manager.registry();
    registry.set_ready();
    auto held = registry.route({"", "events"}, {"a", "k"});
    REQUIRE(held.shards);
    const auto later = Clock::now() + 2min;
    CHECK(registry.close_idle_buffers(later) == 0);  // a request holds the route
    held = {};
    CHECK(registry.close_idle_buffers(later) == 2);
    const auto again = registry.route({"", "events"}, {"a", "k"});
    REQUIRE(again.shards);
    CHECK(again.shards->buffers.size() == 2);
}

TEST_CASE("a quarantine table is made for chgate's rows, checks and quarantines nothing") {
    Fixture f(R"y(
batching:
  max_tables: 1
  tables:
    events: {on_invalid: quarantine}
    orders: {on_invalid: quarantine, quarantine_table: "bad_{table}_rows"}
    bad_orders_rows: {schema: check, on_invalid: quarantine, max_batch_size: 7}
)y");
    auto& registry = f.manager.registry();
    const auto events = registry.find_table("events");
    REQUIRE(events);
    const auto q = registry.route_quarantine(*events);
    REQUIRE(q.buffer);
    const auto& qt = q.buffer->table();
    CHECK(qt.name() == "events_quarantine");
    CHECK(qt.is_quarantine());
    CHECK(qt.config()->schema == config::SchemaCheck::off);
    CHECK(qt.config()->on_invalid == config::OnInvalid::reject);
    CHECK_FALSE(qt.counts_toward_max_tables);
    CHECK(registry.route_quarantine(*events).buffer == q.buffer);
    // Not for clients, unless configured.
    CHECK(registry.route("events_quarantine").error == RouteError::unknown_table);
    // A configured quarantine table keeps its own settings but what makes it one.
    const auto orders = registry.find_table("orders");
    REQUIRE(orders);
    const auto oq = registry.route_quarantine(*orders);
    REQUIRE(oq.buffer);
    CHECK(oq.buffer->table().name() == "bad_orders_rows");
    CHECK(oq.buffer->table().config()->max_batch_size == 7);
    CHECK(oq.buffer->table().config()->schema == config::SchemaCheck::off);
    CHECK(oq.buffer->table().config()->on_invalid == config::OnInvalid::reject);
    CHECK(registry.route("bad_orders_rows").buffer);
    // A reload keeps them quarantine tables.
    f.manager.retune(config_from(R"y(
batching:
  tables:
    events: {on_invalid: quarantine, strategy: size}
    orders: {}
)y"),
                     Clock::now());
    CHECK(qt.config()->schema == config::SchemaCheck::off);
    CHECK(qt.config()->on_invalid == config::OnInvalid::reject);
}

TEST_CASE("rows of a quarantine table read back from its log find it a quarantine table") {
    Fixture f(R"y(
batching:
  defaults: {on_invalid: quarantine}
  tables: {events: {}}
)y");
    const auto r = f.manager.registry().route_for_recovery({"default", "events_quarantine", {}, 0});
    REQUIRE(r.buffer);
    CHECK(r.buffer->table().is_quarantine());
    CHECK(r.buffer->table().config()->on_invalid == config::OnInvalid::reject);
    // Not a quarantine table: the pattern needs a table name in it.
    const auto other = f.manager.registry().route_for_recovery({"default", "_quarantine", {}, 0});
    REQUIRE(other.buffer);
    CHECK_FALSE(other.buffer->table().is_quarantine());
}

TEST_CASE("strings in a quarantine replay's SQL are quoted whatever they hold") {
    CHECK(sql_string("events") == "'events'");
    CHECK(sql_string("it's") == "'it\\'s'");
    CHECK(sql_string("a\\' OR 1 --") == "'a\\\\\\' OR 1 --'");
}
