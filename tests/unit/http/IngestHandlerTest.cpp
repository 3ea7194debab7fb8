#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "batch/BatchManager.hpp"
#include "batch/Quarantine.hpp"
#include "config/ConfigLoader.hpp"
#include "core/ShardSlots.hpp"
#include "flush/FlushQueue.hpp"
#include "http/IngestHandler.hpp"
#include "http/RowChecks.hpp"
#include "ingest/ShardKey.hpp"
#include "schema/SchemaCache.hpp"
#include "schema/SchemaEvolver.hpp"
#include "store/Storage.hpp"
#include "store/Wal.hpp"

using namespace chgate;
namespace bhttp = boost::beast::http;

namespace {

// An ingest request's parts, by name.
http::IngestInput input(std::string_view body, std::string_view query, const http::Defer& defer,
                        std::string_view encoding = {}, std::string_view type = {},
                        std::string_view idempotency_key = {}) {
    http::IngestInput in;
    in.content_encoding = encoding;
    in.content_type = type;
    in.body = body;
    in.url_query = query;
    in.defer = &defer;
    in.idempotency_key = idempotency_key;
    in.scope = "/v1/events/t";
    return in;
}

// A Defer that keeps what the handler answers later, and its timeout answer.
struct CapturedReply : http::Reply {
    void send(http::Response r) override {
        if (!answer) answer = std::move(r);
    }
    std::optional<http::Response> answer;
    std::chrono::milliseconds timeout{0};
    http::Response on_timeout;
};

struct Fixture {
    explicit Fixture(const std::string& yaml, std::uint64_t max_body = 1 << 20,
                     store::Storage* storage = nullptr)
        : config(
              config::load_config_text(
                  yaml, "t.yaml", [](const std::string&) { return std::optional<std::string>(); })
                  .config),
          budget(config->batching.max_memory),
          rate(Clock::now()),
          manager(config, queue, budget, rate, storage),
          access(*config, true),
          handler(manager, access, max_body, std::chrono::seconds(30), std::chrono::minutes(10),
                  100000, [this] { return distributed_sync_missing; }) {
        manager.registry().set_ready();
        defer = [this](std::chrono::milliseconds timeout, http::Response on_timeout) {
            auto r = std::make_shared<CapturedReply>();
            r->timeout = timeout;
            r->on_timeout = std::move(on_timeout);
            replies.push_back(r);
            return r;
        };
    }

    // The answer, given now or through the Defer by the time this returns.
    http::Response events(std::string_view table, std::string_view body,
                          std::string_view encoding = {}, std::string_view type = {},
                          std::string_view query = {}) {
        return answer(
            handler.post_events(table, input(body, query, defer, encoding, type), scratch));
    }
    http::Response insert(std::string_view url_query, std::string_view body) {
        return answer(handler.post_insert(url_query, input(body, url_query, defer), scratch));
    }
    http::Response answer(std::optional<http::Response> now) {
        if (now) return *now;
        REQUIRE(!replies.empty());
        REQUIRE(replies.back()->answer);
        return *replies.back()->answer;
    }
    // Everything buffered so far, sealed and read back from the queue.
    std::map<std::string, std::string> flushed() {
        manager.seal_all(flush::FlushReason::shutdown);
        queue.close();
        std::map<std::string, std::string> out;
        while (auto b = queue.pop()) {
            out[b->owner->target().insert_query] += b->rows;
            queue.finish();
        }
        return out;
    }

    config::ConfigPtr config;
    flush::FlushQueue queue;
    batch::MemoryBudget budget;
    core::RateWindow rate;
    batch::BatchManager manager;
    http::Access access;
    http::IngestHandler handler;
    bool distributed_sync_missing = false;  ///< what the probe of ClickHouse found
    http::IngestScratch scratch;
    http::Defer defer;
    std::vector<std::shared_ptr<CapturedReply>> replies;
};

std::string gzip(std::string_view in) {
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&zs, in.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

// Most tests are about parsing and routing: answers come at once with ack: buffered.
const char* kConfig =
    "batching: {defaults: {ack: buffered}, tables: {events: {}, payments: {strategy: immediate}}}";
const char* kInsertEvents = "INSERT INTO `default`.`events` FORMAT JSONEachRow";

}  // namespace

TEST_CASE("events are accepted with 202 and their count") {
    Fixture f(kConfig);
    auto r = f.events("events", R"([{"a":1},{"a":2}])");
    CHECK(r.status == bhttp::status::accepted);
    CHECK(r.body == R"({"accepted":2})");
    r = f.events("events", "{\"a\":3}\n{\"a\":4}\n", {}, "application/x-ndjson");
    CHECK(r.body == R"({"accepted":2})");
    r = f.events("events", gzip(R"({"a":5})"), "gzip");
    CHECK(r.body == R"({"accepted":1})");
    CHECK(f.events("events", "[]").body == R"({"accepted":0})");
    CHECK(f.flushed()[kInsertEvents] == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n{\"a\":5}\n");
}

TEST_CASE("a bad event refuses the whole request and buffers nothing") {
    Fixture f(kConfig);
    const auto r = f.events("events", R"([{"a":1},{"a":2},"oops"])");
    CHECK(r.status == bhttp::status::bad_request);
    const auto j = nlohmann::json::parse(r.body);
    CHECK(j["index"] == 2);
    CHECK(j["offset"] == 17);
    CHECK_THAT(j["error"].get<std::string>(), Catch::Contains("not a JSON object"));
    CHECK(f.flushed().empty());
}

TEST_CASE("errors map to the documented statuses always as JSON") {
    Fixture f(kConfig, 1000);
    auto r = f.events("nope", R"({"a":1})");
    CHECK(r.status == bhttp::status::not_found);
    CHECK(nlohmann::json::parse(r.body)["table"] == "nope");
    r = f.events("bad-name", R"({"a":1})");
    CHECK(r.status == bhttp::status::bad_request);
    CHECK_THAT(r.body, Catch::Contains("is not a table name"));
    r = f.events("events", R"({"a":1})", "br");
    CHECK(r.status == bhttp::status::unsupported_media_type);
    r = f.events("events", gzip(std::string(5000, ' ') + "{}"), "gzip");
    CHECK(r.status == bhttp::status::payload_too_large);
    r = f.events("events", "not gzip", "gzip");
    CHECK(r.status == bhttp::status::bad_request);
    r = f.events("events", "");
    CHECK(r.status == bhttp::status::bad_request);
    for (const auto& resp : {f.events("nope", "{}"), f.events("events", "{", "br")}) {
        CHECK(nlohmann::json::parse(resp.body).contains("error"));
    }
    CHECK(f.flushed().empty());
}

TEST_CASE("a full table answers 429 a full gateway 503 both with Retry-After") {
    Fixture f(
        "batching: {max_memory: 1MiB, defaults: {ack: buffered}, tables: {small: {max_memory: "
        "8KiB, max_batch_size: 100000}, big: {max_memory: 1MiB, max_batch_size: 100000}, other: "
        "{max_memory: 1MiB}}}");
    const std::string row = R"({"pad":")" + std::string(3000, 'x') + R"("})";
    CHECK(f.events("small", row).status == bhttp::status::accepted);
    CHECK(f.events("small", row).status == bhttp::status::accepted);
    auto r = f.events("small", row);
    CHECK(r.status == bhttp::status::too_many_requests);
    CHECK(r.retry_after_seconds == 1);
    CHECK_THAT(r.body, Catch::Contains("table small"));
    // The other tables are unaffected by this table's quota ...
    CHECK(f.events("big", row).status == bhttp::status::accepted);
    const std::string fat = R"({"pad":")" + std::string(300'000, 'x') + R"("})";
    for (int i = 0; i < 3; ++i)
        CHECK(f.events("big", fat).status == bhttp::status::accepted);
    CHECK(f.events("big", fat).status == bhttp::status::too_many_requests);
    // ... until the gateway's budget runs out for everyone.
    r = f.events("other", fat);
    CHECK(r.status == bhttp::status::service_unavailable);
    CHECK(r.retry_after_seconds == 1);
    CHECK(f.events("other", R"({"tiny":1})").status == bhttp::status::accepted);
    r = f.events("small", std::string(R"({"pad":")") + std::string(9000, 'x') + R"("})");
    CHECK(r.status == bhttp::status::payload_too_large);
}

TEST_CASE("a connection that switches tables sends each request to its own table") {
    Fixture f(kConfig);  // one scratch: one connection, with its cached route
    CHECK(f.events("events", R"({"a":1})").status == bhttp::status::accepted);
    CHECK(f.events("payments", R"({"p":1})").status == bhttp::status::accepted);
    CHECK(f.events("nope", R"({"a":9})").status == bhttp::status::not_found);
    CHECK(f.events("events", R"({"a":2})").status == bhttp::status::accepted);
    CHECK(f.insert("query=INSERT%20INTO%20payments%20FORMAT%20JSONEachRow", R"({"p":2})").status ==
          bhttp::status::ok);
    CHECK(f.events("events", R"({"a":3})").status == bhttp::status::accepted);
    const auto flushed = f.flushed();
    CHECK(flushed.at(kInsertEvents) == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
    CHECK(flushed.at("INSERT INTO `default`.`payments` FORMAT JSONEachRow") ==
          "{\"p\":1}\n{\"p\":2}\n");
}

TEST_CASE("the ClickHouse-compatible endpoint takes the query in the URL or the body") {
    Fixture f(kConfig);
    auto r =
        f.insert("query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow", "{\"a\":1}\n{\"a\":2}");
    CHECK(r.status == bhttp::status::ok);
    CHECK(r.body.empty());
    r = f.insert("", "INSERT INTO events FORMAT JSONEachRow\n{\"a\":3}\n");
    CHECK(r.status == bhttp::status::ok);
    r = f.insert("query=insert+into+default.events+(b,a)+format+JSONEachRow", R"({"a":4,"b":5})");
    CHECK(r.status == bhttp::status::ok);
    r = f.insert("query=INSERT%20INTO%20events%20(a,%20b)%20FORMAT%20JSONEachRow%20{\"a\":6}",
                 "{\"b\":7}");
    CHECK(r.status == bhttp::status::ok);
    r = f.insert("database=default&query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow",
                 R"({"a":8})");
    CHECK(r.status == bhttp::status::ok);
    const auto flushed = f.flushed();
    CHECK(flushed.at(kInsertEvents) == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":8}\n");
    CHECK(flushed.at("INSERT INTO `default`.`events` (`a`, `b`) FORMAT JSONEachRow") ==
          "{\"a\":4,\"b\":5}\n{\"a\":6}\n{\"b\":7}\n");
}

TEST_CASE("an INSERT without rows succeeds as in ClickHouse") {
    Fixture f(kConfig);
    CHECK(f.insert("query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow", "").status ==
          bhttp::status::ok);
    CHECK(f.insert("", "INSERT INTO events FORMAT JSONEachRow\n\n").status == bhttp::status::ok);
    CHECK(f.flushed().empty());
}

TEST_CASE("an INSERT answers with its query id and a summary, as ClickHouse does") {
    Fixture f(kConfig);  // ack buffered: nothing is written when the answer goes
    auto r = f.insert("query_id=app-42&query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow",
                      "{\"a\":1}\n{\"a\":2}");
    CHECK(r.status == bhttp::status::ok);
    CHECK_THAT(r.extra_headers, Catch::Contains("X-ClickHouse-Query-Id: app-42\r\n"));
    CHECK_THAT(r.extra_headers,
               Catch::Contains("X-ClickHouse-Summary: {\"read_rows\":\"0\",\"read_bytes\":\"0\","
                               "\"written_rows\":\"0\",\"written_bytes\":\"0\","));
    // Without one, a random UUID, different each time.
    r = f.insert("query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow", "{\"a\":3}");
    const std::regex uuid(
        "X-ClickHouse-Query-Id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
        "[89ab][0-9a-f]{3}-[0-9a-f]{12}\r\n");
    CHECK(std::regex_search(r.extra_headers, uuid));
    const auto second = f.insert("query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow", "");
    CHECK(std::regex_search(second.extra_headers, uuid));
    CHECK(second.extra_headers.substr(0, 60) != r.extra_headers.substr(0, 60));
    // A query id that cannot be a header value: 400, never echoed.
    r = f.insert(
        "query_id=a%0D%0ASet-Cookie:%20x&query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow",
        "{\"a\":4}");
    CHECK(r.status == bhttp::status::bad_request);
    CHECK(r.extra_headers.empty());
    r = f.insert("query_id=" + std::string(257, 'q') +
                     "&query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow",
                 "{\"a\":5}");
    CHECK(r.status == bhttp::status::bad_request);
    // /v1/events has its own JSON answer and no ClickHouse headers.
    CHECK(f.events("events", R"({"a":6})").extra_headers.empty());
}

TEST_CASE("scratch buffers shrink after a large request") {
    http::IngestScratch s;
    s.decoded.assign(1 << 20, 'x');
    s.rows.resize(100'000);
    s.trim();
    CHECK(s.decoded.capacity() < (1 << 20));
    CHECK(s.rows.capacity() == 0);
    s.decoded.assign(1000, 'x');
    s.trim();
    CHECK(s.decoded.capacity() >= 1000);  // small buffers are kept for reuse
}

TEST_CASE("the ClickHouse-compatible endpoint refuses everything else") {
    Fixture f(kConfig);
    auto r = f.insert("query=SELECT%201", "");
    CHECK(r.status == bhttp::status::bad_request);
    CHECK_THAT(r.body, Catch::Contains("not a SQL proxy"));
    r = f.insert("", "{\"a\":1}");
    CHECK(r.status == bhttp::status::bad_request);
    CHECK_THAT(r.body, Catch::Contains("no ?query= parameter"));
    r = f.insert("query=INSERT%20INTO%20nope%20FORMAT%20JSONEachRow", "{\"a\":1}");
    CHECK(r.status == bhttp::status::not_found);
    r = f.insert("query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow", "{\"a\":1}\n[1]");
    CHECK(r.status == bhttp::status::bad_request);
    CHECK(nlohmann::json::parse(r.body)["index"] == 1);
    r = f.insert("decompress=1&query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow", "x");
    CHECK(r.status == bhttp::status::unsupported_media_type);
    r = f.insert("database=bad-db&query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow", "{}");
    CHECK(r.status == bhttp::status::bad_request);
    CHECK(f.flushed().empty());
}

TEST_CASE("ack committed answers 200 once every batch holding the rows is inserted") {
    Fixture f("batching: {tables: {t: {ack: committed, strategy: size, max_batch_size: 2}}}");
    auto now =
        f.handler.post_events("t", input(R"([{"a":1},{"a":2},{"a":3}])", {}, f.defer), f.scratch);
    REQUIRE_FALSE(now.has_value());
    REQUIRE(f.replies.size() == 1);
    CHECK(f.replies[0]->timeout == std::chrono::seconds(30));
    CHECK(f.replies[0]->on_timeout.status == bhttp::status::gateway_timeout);
    // One batch of two rows went out; the third row waits in the buffer.
    auto first = f.queue.pop();
    REQUIRE(first);
    REQUIRE(first->waiters.size() == 1);
    first->waiters[0].waiter->batch_finished({});
    CHECK_FALSE(f.replies[0]->answer.has_value());
    f.manager.seal_all(flush::FlushReason::shutdown);
    auto second = f.queue.pop();
    REQUIRE(second);
    second->waiters[0].waiter->batch_finished({});
    REQUIRE(f.replies[0]->answer);
    CHECK(f.replies[0]->answer->status == bhttp::status::ok);
    CHECK(f.replies[0]->answer->body == R"({"accepted":3,"committed":3})");
}

TEST_CASE("ack committed answers 502 when ClickHouse rejects the rows") {
    Fixture f("batching: {defaults: {ack: buffered}, tables: {t: {strategy: immediate}}}");
    auto now = f.handler.post_events("t", input(R"({"a":1})", "ack=committed", f.defer), f.scratch);
    REQUIRE_FALSE(now.has_value());
    auto b = f.queue.pop();
    REQUIRE(b);
    b->waiters[0].waiter->batch_finished({false, true, "Code: 27, Cannot parse input"});
    REQUIRE(f.replies[0]->answer);
    CHECK(f.replies[0]->answer->status == bhttp::status::bad_gateway);
    CHECK_THAT(f.replies[0]->answer->body, Catch::Contains("Code: 27"));
}

TEST_CASE("a request cannot lower its table's ack level and bad levels are refused") {
    Fixture f("batching: {tables: {t: {ack: committed}}}");
    auto now = f.handler.post_events("t", input(R"({"a":1})", "ack=buffered", f.defer), f.scratch);
    CHECK_FALSE(now.has_value());
    CHECK(f.events("t", R"({"a":1})", {}, {}, "ack=eventually").status ==
          bhttp::status::bad_request);
}

TEST_CASE("a refused request with ack committed is answered at once through the reply") {
    Fixture f("batching: {tables: {t: {ack: committed, max_memory: 4KiB}}}");
    const std::string big = R"({"pad":")" + std::string(5000, 'x') + R"("})";
    CHECK(f.events("t", big).status == bhttp::status::payload_too_large);
}

TEST_CASE("ack durable answers 202 once the write-ahead log is written") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("chgate-unit-" + std::to_string(::getpid()) + "-durable");
    std::filesystem::remove_all(dir);
    {
        store::Storage storage({dir, {}, std::chrono::seconds(1)});
        Fixture f("batching: {tables: {t: {ack: durable}}}", 1 << 20, &storage);
        auto now =
            f.handler.post_events("t", input(R"([{"a":1},{"a":2}])", {}, f.defer), f.scratch);
        REQUIRE_FALSE(now.has_value());
        CHECK_FALSE(f.replies[0]->answer.has_value());
        const auto buffer = f.manager.registry().route("t").buffer;
        REQUIRE(buffer->wal());
        buffer->wal()->flush(true);  // what the writer thread does
        REQUIRE(f.replies[0]->answer);
        CHECK(f.replies[0]->answer->status == bhttp::status::accepted);
        CHECK(f.replies[0]->answer->body == R"({"accepted":2})");
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("ingest answers 503 until the log is replayed") {
    Fixture f(kConfig);
    batch::BatchManager fresh(f.config, f.queue, f.budget, f.rate);
    http::IngestHandler handler(fresh, f.access, 1 << 20, std::chrono::seconds(1));
    auto r = handler.post_events("events", input(R"({"a":1})", {}, f.defer), f.scratch);
    REQUIRE(r);
    CHECK(r->status == bhttp::status::service_unavailable);
    CHECK(r->retry_after_seconds == 1);
}

TEST_CASE("an Idempotency-Key repeat gets the first answer and inserts nothing") {
    Fixture f(kConfig);
    auto first = f.answer(f.handler.post_events(
        "events", input(R"([{"a":1},{"a":2}])", {}, f.defer, {}, {}, "key-1"), f.scratch));
    CHECK(first.status == bhttp::status::accepted);
    CHECK_FALSE(first.idempotent_replayed);
    auto again = f.answer(f.handler.post_events(
        "events", input(R"([{"a":1},{"a":2}])", {}, f.defer, {}, {}, "key-1"), f.scratch));
    CHECK(again.status == bhttp::status::accepted);
    CHECK(again.body == first.body);
    CHECK(again.idempotent_replayed);
    auto other = f.answer(f.handler.post_events(
        "events", input(R"({"a":3})", {}, f.defer, {}, {}, "key-2"), f.scratch));
    CHECK_FALSE(other.idempotent_replayed);
    CHECK(f.flushed()[kInsertEvents] == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
}

TEST_CASE("a refused request's retry with the same key is processed anew") {
    Fixture f(kConfig);
    auto bad = f.answer(
        f.handler.post_events("events", input("[1]", {}, f.defer, {}, {}, "k"), f.scratch));
    CHECK(bad.status == bhttp::status::bad_request);
    auto good = f.answer(
        f.handler.post_events("events", input(R"({"a":1})", {}, f.defer, {}, {}, "k"), f.scratch));
    CHECK(good.status == bhttp::status::accepted);
    CHECK_FALSE(good.idempotent_replayed);
    CHECK(f.answer(f.handler.post_events("events", input("x", {}, f.defer, {}, {}, "bad key"),
                                         f.scratch))
              .status == bhttp::status::bad_request);
}

TEST_CASE("a repeat while the first waits for its commit gets 409 and then the answer") {
    Fixture f("batching: {tables: {t: {ack: committed, strategy: immediate}}}");
    auto pending =
        f.handler.post_events("t", input(R"({"a":1})", {}, f.defer, {}, {}, "k"), f.scratch);
    REQUIRE_FALSE(pending.has_value());
    auto busy =
        f.handler.post_events("t", input(R"({"a":1})", {}, f.defer, {}, {}, "k"), f.scratch);
    REQUIRE(busy);
    CHECK(busy->status == bhttp::status::conflict);
    auto b = f.queue.pop();
    REQUIRE(b);
    b->waiters[0].waiter->batch_finished({});
    REQUIRE(f.replies[0]->answer);
    CHECK(f.replies[0]->answer->status == bhttp::status::ok);
    auto again =
        f.handler.post_events("t", input(R"({"a":1})", {}, f.defer, {}, {}, "k"), f.scratch);
    REQUIRE(again);
    CHECK(again->status == bhttp::status::ok);
    CHECK(again->idempotent_replayed);
    CHECK(f.queue.size() == 0);  // nothing inserted twice
}

TEST_CASE(
    "a Distributed table promises committed only where the server has insert_distributed_sync") {
    Fixture f("batching: {defaults: {ack: buffered}, tables: {events_all: {distributed: true}}}");
    // The server has the setting: committed is deferred until the batch reports.
    CHECK_FALSE(f.handler.post_events("events_all", input(R"({"a":1})", "ack=committed", f.defer),
                                      f.scratch));
    f.distributed_sync_missing = true;
    auto r = f.events("events_all", R"({"a":2})", {}, {}, "ack=committed");
    CHECK(r.status == bhttp::status::not_implemented);
    CHECK_THAT(r.body, Catch::Contains("insert_distributed_sync"));
    // Buffered promises nothing about the shards, and stays.
    CHECK(f.events("events_all", R"({"a":3})").status == bhttp::status::accepted);
    // Without a log of its own (no storage here), durable means committed: refused too.
    CHECK(f.events("events_all", R"({"a":4})", {}, {}, "ack=durable").status ==
          bhttp::status::not_implemented);
}

namespace {

const char* kSharded = R"y(
clickhouse:
  cluster:
    shards:
      - {weight: 1, replicas: ["http://s1:8123"]}
      - {weight: 1, replicas: ["http://s2:8123"]}
batching:
  tables:
    events: {shard_by: "cityHash64(k)", local_table: events_local, ack: buffered}
    picked: {shard_by: "rand()", local_table: picked_local, ack: buffered}
)y";

// The rows each shard's batches hold (from 1), sealing what is buffered.
std::map<std::uint32_t, std::vector<std::string>> rows_by_shard(Fixture& f) {
    f.manager.seal_all(flush::FlushReason::shutdown);
    std::map<std::uint32_t, std::vector<std::string>> out;
    for (auto& b : f.queue.take_all()) {
        CHECK(b.owner->target().shard != 0);
        std::istringstream in(b.rows);
        for (std::string line; std::getline(in, line);)
            out[b.owner->target().shard].push_back(line);
        b.owner->on_released(b);
    }
    return out;
}

// The shard (from 1) ClickHouse puts a row of `shards` equal weights on.
std::uint32_t expected_shard(std::string_view row, std::size_t shards) {
    std::string scratch;
    const auto by = *core::parse_shard_by("cityHash64(k)", scratch);
    const std::vector<std::uint32_t> weights(shards, 1);
    return static_cast<std::uint32_t>(
        core::ShardSlots(weights).shard_of(ingest::shard_key(row, by, scratch).value) + 1);
}

}  // namespace

TEST_CASE("a table with shard_by splits a request's rows into its shards' buffers") {
    Fixture f(kSharded);
    std::string body;
    std::vector<std::string> rows;
    for (int i = 0; i < 40; ++i) {
        rows.push_back(R"({"k":"user-)" + std::to_string(i) + R"(","n":)" + std::to_string(i) +
                       "}");
        body += rows.back() + "\n";
    }
    const auto r = f.events("events", body, {}, "application/x-ndjson");
    CHECK(r.status == bhttp::status::accepted);
    CHECK(r.body == R"({"accepted":40})");
    const auto got = rows_by_shard(f);
    REQUIRE(got.size() == 2);  // both shards got some of 40 keys
    std::map<std::uint32_t, std::vector<std::string>> want;
    for (const auto& row : rows)
        want[expected_shard(row, 2)].push_back(row);
    CHECK(got == want);  // each row on its shard, in the request's order
    const auto route = f.manager.registry().route("events");
    REQUIRE(route.shards);
    CHECK(route.shards->buffers[0]->insert_query() ==
          "INSERT INTO `default`.`events_local` FORMAT JSONEachRow");
    const auto& table = f.manager.registry().route("events").buffer->table();
    CHECK(table.stats().requests_accepted.load() == 1);
    CHECK(table.shard_stats(1).rows_accepted.load() + table.shard_stats(2).rows_accepted.load() ==
          40);
}

TEST_CASE("a change of the cluster's shards places the next requests' rows by it") {
    Fixture f(kSharded);
    std::string body;
    std::vector<std::string> rows;
    for (int i = 0; i < 60; ++i) {
        rows.push_back(R"({"k":"user-)" + std::to_string(i) + R"("})");
        body += rows.back() + "\n";
    }
    CHECK(f.events("events", body, {}, "application/x-ndjson").status == bhttp::status::accepted);
    f.manager.registry().reshard({1, 1, 1});
    CHECK(f.events("events", body, {}, "application/x-ndjson").status == bhttp::status::accepted);
    std::map<std::uint32_t, std::vector<std::string>> want;
    for (const auto& row : rows)
        want[expected_shard(row, 2)].push_back(row);
    for (const auto& row : rows)
        want[expected_shard(row, 3)].push_back(row);
    CHECK(rows_by_shard(f) == want);
    // Shards unknown (discover has had no answer yet): 503, and nothing stored.
    f.manager.registry().reshard({});
    const auto r = f.events("events", body, {}, "application/x-ndjson");
    CHECK(r.status == bhttp::status::service_unavailable);
    CHECK_THAT(r.body, Catch::Contains("no ClickHouse server has told chgate the cluster"));
    CHECK(r.retry_after_seconds > 0);
    CHECK(rows_by_shard(f).empty());
}

TEST_CASE("a row whose shard key chgate cannot compute refuses the whole request") {
    Fixture f(kSharded);
    for (const char* bad : {R"({"n":1})", R"({"k":null})", R"({"k":1.5})", R"({"k":-3})",
                            R"({"k":"a","k":"b"})", R"({"k":"\udc00"})", R"({"k":[1]})"}) {
        INFO(bad);
        const auto r = f.events("events", std::string(R"({"k":"fine"})") + "\n" + bad + "\n", {},
                                "application/x-ndjson");
        CHECK(r.status == bhttp::status::bad_request);
        CHECK_THAT(r.body, Catch::Contains("\"index\":1"));
        CHECK_THAT(r.body, Catch::Contains("event 1: field k "));
        CHECK_THAT(r.body, Catch::Contains("nothing was stored"));
    }
    CHECK(rows_by_shard(f).empty());  // not even the good first rows
}

TEST_CASE("rand() sends each request whole to one shard, and every shard gets requests") {
    Fixture f(kSharded);
    std::set<std::uint32_t> used;
    for (int i = 0; i < 40; ++i) {
        CHECK(f.events("picked", R"([{"a":1},{"a":2},{"a":3}])").status == bhttp::status::accepted);
        const auto got = rows_by_shard(f);
        REQUIRE(got.size() == 1);  // the request stays one batch
        CHECK(got.begin()->second.size() == 3);
        used.insert(got.begin()->first);
    }
    CHECK(used == std::set<std::uint32_t>{1, 2});  // 2^-39 odds of a false failure
}

TEST_CASE("a sharded request that does not fit is refused whole, leaving no shard any rows") {
    Fixture f(R"y(
clickhouse: {cluster: {shards: [{replicas: ["http://a"]}, {replicas: ["http://b"]}]}}
batching:
  tables: {events: {shard_by: "cityHash64(k)", local_table: l, ack: buffered, max_memory: 4KiB}}
)y");
    std::string body;
    for (int i = 0; i < 200; ++i)
        body += R"({"k":"key-)" + std::to_string(i) +
                R"(","pad":"..............."})"
                "\n";
    const auto r = f.events("events", body, {}, "application/x-ndjson");
    CHECK(r.status == bhttp::status::payload_too_large);
    CHECK(rows_by_shard(f).empty());
    CHECK(f.manager.registry().route("events").buffer->table().held_bytes() == 0);
}

TEST_CASE("ack committed on a sharded table answers once every shard's batch is inserted") {
    Fixture f(R"y(
clickhouse: {cluster: {shards: [{replicas: ["http://a"]}, {replicas: ["http://b"]}]}}
batching:
  tables: {events: {shard_by: "cityHash64(k)", local_table: l, ack: committed}}
)y");
    auto now = f.handler.post_events(
        "events", input(R"([{"k":"a"},{"k":"b"},{"k":"c"},{"k":"d"},{"k":"e"}])", {}, f.defer),
        f.scratch);
    REQUIRE_FALSE(now.has_value());
    f.manager.seal_all(flush::FlushReason::shutdown);
    auto batches = f.queue.take_all();
    REQUIRE(batches.size() == 2);  // one per shard
    batches[0].waiters[0].waiter->batch_finished({});
    CHECK_FALSE(f.replies[0]->answer.has_value());  // the other shard has not committed
    batches[1].waiters[0].waiter->batch_finished({});
    REQUIRE(f.replies[0]->answer);
    CHECK(f.replies[0]->answer->body == R"({"accepted":5,"committed":5})");
    for (auto& b : batches)
        b.owner->on_released(b);
}

TEST_CASE("ack durable on a sharded table answers once every shard's log is written") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("chgate-unit-" + std::to_string(::getpid()) + "-sharded");
    std::filesystem::remove_all(dir);
    {
        store::Storage storage({dir, {}, std::chrono::seconds(1)});
        Fixture f(R"y(
clickhouse: {cluster: {shards: [{replicas: ["http://a"]}, {replicas: ["http://b"]}]}}
batching:
  tables: {events: {shard_by: "cityHash64(k)", local_table: l, ack: durable}}
)y",
                  1 << 20, &storage);
        auto now = f.handler.post_events(
            "events", input(R"([{"k":"a"},{"k":"b"},{"k":"c"},{"k":"d"},{"k":"e"}])", {}, f.defer),
            f.scratch);
        REQUIRE_FALSE(now.has_value());
        const auto route = f.manager.registry().route("events");
        REQUIRE(route.shards);
        REQUIRE(route.shards->buffers.size() == 2);
        route.shards->buffers[0]->wal()->flush(true);
        CHECK_FALSE(f.replies[0]->answer.has_value());
        route.shards->buffers[1]->wal()->flush(true);
        REQUIRE(f.replies[0]->answer);
        CHECK(f.replies[0]->answer->status == bhttp::status::accepted);
        // Each shard has a log of its own, named for it.
        CHECK(std::filesystem::exists(dir / "wal" / "default.events@1" / "meta.json"));
        CHECK(std::filesystem::exists(dir / "wal" / "default.events@2" / "meta.json"));
        CHECK_FALSE(std::filesystem::exists(dir / "wal" / "default.events"));
    }
    std::filesystem::remove_all(dir);
}

namespace {

// A schema cache that has read events(id UInt64, note String, day Date
// MATERIALIZED), and `more` tables of the same columns, and knows "later"
// does not exist yet.
struct Schemas {
    schema::SchemaCache cache{[](const std::string& sql, std::size_t) {
                                  clickhouse::HttpResponse r;
                                  r.transport_ok = true;
                                  r.status = 200;
                                  r.body = sql.find("'later'") == std::string::npos
                                               ? R"({"data": [["id", "UInt64", ""],
                                                   ["note", "String", ""],
                                                   ["day", "Date", "MATERIALIZED"]]})"
                                               : R"({"data": []})";
                                  return r;
                              },
                              std::chrono::minutes(1), 10};
    explicit Schemas(const config::Config& c, const std::vector<std::string>& more = {})
        : checks(cache, c.clickhouse) {
        cache.want("default", "events");
        cache.want("default", "later");
        for (const auto& t : more)
            cache.want("default", t);
        cache.run_once(schema::SchemaCache::Clock::now());
    }
    http::RowChecks checks;
};

const char* kChecked = R"y(
batching:
  tables:
    events: {ack: buffered}
    loose: {ack: buffered, schema: off}
    later: {ack: buffered}
)y";

}  // namespace

TEST_CASE("under schema: check, an event that does not fit the columns refuses its request") {
    Fixture f(kChecked);
    Schemas schemas(*f.config);
    f.handler.set_row_checks(&schemas.checks);
    CHECK(f.events("events", R"([{"id": 1, "note": "a"}, {"id": 2}])").status ==
          bhttp::status::accepted);
    const auto r = f.events("events", R"([{"id": 1, "note": "a"}, {"id": "two", "note": "b"}])");
    CHECK(r.status == bhttp::status::bad_request);
    const auto body = nlohmann::json::parse(r.body);
    CHECK(body["index"] == 1);
    CHECK(body["field"] == "id");
    CHECK(body["expected"] == "UInt64");
    CHECK(body["offset"] == 32);  // of "two" in the body
    CHECK_THAT(body["error"].get<std::string>(),
               Catch::Contains("event 1: field \"id\" is not an integer (column type UInt64)"));
    const auto extra = f.events("events", R"({"id": 1, "colour": "red"})");
    CHECK(extra.status == bhttp::status::bad_request);
    CHECK_THAT(extra.body, Catch::Contains("is not a column of the table"));
    const auto& table = f.manager.registry().route("events").buffer->table();
    CHECK(table.stats().requests_rejected_invalid.load() == 2);
    // schema: off, and a table whose columns are not known, take anything.
    CHECK(f.events("loose", R"({"id": "two"})").status == bhttp::status::accepted);
    CHECK(f.events("later", R"({"id": "two"})").status == bhttp::status::accepted);
    const auto& later = f.manager.registry().route("later").buffer->table();
    CHECK(later.stats().rows_unchecked.load() == 1);
    // The ClickHouse-compatible INSERT is checked too.
    CHECK(f.insert("query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow", R"({"id": -1})").status ==
          bhttp::status::bad_request);
    // Only the first request's rows were stored.
    CHECK(f.flushed()["INSERT INTO `default`.`events` FORMAT JSONEachRow"] ==
          "{\"id\": 1, \"note\": \"a\"}\n{\"id\": 2}\n");
}

TEST_CASE("under schema: coerce, rewritten events are buffered as rewritten, the rest as sent") {
    Fixture f(R"y(
batching:
  tables:
    events: {ack: buffered, schema: coerce}
)y");
    Schemas schemas(*f.config);
    f.handler.set_row_checks(&schemas.checks);
    // The first event fits as sent; the second and fourth need rewriting.
    CHECK(
        f.events("events",
                 "[{\"id\": 1, \"note\": \"a\"},\n{\"id\": true},{\"id\":\n3}, {\"id\": \"4.0\"}]")
            .status == bhttp::status::accepted);
    const auto& table = f.manager.registry().route("events").buffer->table();
    CHECK(table.stats().rows_coerced.load() == 2);
    CHECK(table.stats().rows_accepted.load() == 4);
    // What cannot be rewritten is refused as under check, with its offset in
    // the body as sent.
    const auto r = f.events("events", R"([{"id": true}, {"id": 1.5}])");
    CHECK(r.status == bhttp::status::bad_request);
    const auto body = nlohmann::json::parse(r.body);
    CHECK(body["index"] == 1);
    CHECK(body["offset"] == 22);
    CHECK_THAT(body["error"].get<std::string>(), Catch::Contains("(schema: coerce)"));
    CHECK(table.stats().rows_coerced.load() == 2);
    CHECK(f.flushed()["INSERT INTO `default`.`events` FORMAT JSONEachRow"] ==
          "{\"id\": 1, \"note\": \"a\"}\n{\"id\": 1}\n{\"id\": 3}\n{\"id\": 4}\n");
}

TEST_CASE("schema_evolution: a new field is buffered while its column is added") {
    Fixture f(R"y(
batching:
  tables:
    events: {ack: buffered, schema_evolution: add_columns, max_columns: 6}
    slow: {ack: buffered, schema_evolution: add_columns, max_alters_per_minute: 1}
)y");
    Schemas schemas(*f.config, {"slow"});
    // An evolver that is never run: what it is asked for stays pending.
    std::vector<std::string> asked;
    schema::SchemaEvolver evolver(
        [&](const std::string&, const std::string& sql) {
            asked.push_back(sql);
            return clickhouse::HttpResponse{};
        },
        [] { return std::vector<std::string>{"http://a"}; }, {}, {}, "");
    schemas.checks.set_evolver(&evolver);
    f.handler.set_row_checks(&schemas.checks);
    f.handler.set_evolver(&evolver);
    const schema::SchemaEvolver::Key events{"default", "events"};

    CHECK(f.events("events", R"({"id": 1, "colour": "red"})").status == bhttp::status::accepted);
    REQUIRE(evolver.extra(events));
    CHECK(*evolver.extra(events) == std::vector<schema::NewColumn>{{"colour", "Nullable(String)"}});
    CHECK(evolver.waits(events));
    // Two new fields in one event, and the one already asked for: checked
    // against the new column's type.
    CHECK(
        f.events("events", R"({"id": 2, "colour": "blue", "size": 3, "at": "2026-12-03 10:00:00"})")
            .status == bhttp::status::accepted);
    CHECK(*evolver.extra(events) == std::vector<schema::NewColumn>{{"colour", "Nullable(String)"},
                                                                   {"size", "Nullable(Int64)"},
                                                                   {"at", "Nullable(DateTime)"}});
    const auto wrong = f.events("events", R"({"id": 3, "colour": 5})");
    CHECK(wrong.status == bhttp::status::bad_request);
    CHECK_THAT(wrong.body, Catch::Contains("Nullable(String)"));
    // Fields that cannot become columns are unknown fields, with the reason.
    const auto null = f.events("events", R"({"id": 4, "shape": null})");
    CHECK(null.status == bhttp::status::bad_request);
    CHECK_THAT(null.body, Catch::Contains("says nothing of the column's type"));
    const auto upper = f.events("events", R"({"id": 4, "Shape": "round"})");
    CHECK(upper.status == bhttp::status::bad_request);
    CHECK_THAT(upper.body, Catch::Contains("new_column_pattern"));
    const auto odd = f.events("events", R"({"id": 4, "a b": "round"})");
    CHECK(odd.status == bhttp::status::bad_request);
    const auto full = f.events("events", R"({"id": 4, "weight": 1.5})");  // 3 + 3 columns
    CHECK(full.status == bhttp::status::bad_request);
    CHECK_THAT(full.body, Catch::Contains("max_columns is 6"));
    // Past the table's ALTER rate: 429 with Retry-After, nothing stored.
    CHECK(f.events("slow", R"({"a": 1})").status == bhttp::status::accepted);
    const auto limited = f.events("slow", R"({"b": 1})");
    CHECK(limited.status == bhttp::status::too_many_requests);
    CHECK(limited.retry_after_seconds >= 59);
    CHECK_THAT(limited.body, Catch::Contains("at most 1 columns a minute"));
    const auto& slow = f.manager.registry().route("slow").buffer->table();
    CHECK(slow.stats().rows_accepted.load() == 1);
    CHECK(asked.empty());  // the door never waits for ClickHouse
}

TEST_CASE("on_invalid: quarantine takes the events that fit and quarantines the rest") {
    Fixture f(R"y(
batching:
  tables:
    events: {ack: buffered, on_invalid: quarantine}
)y");
    Schemas schemas(*f.config);
    f.handler.set_row_checks(&schemas.checks);
    batch::Quarantine quarantine(f.manager);
    f.handler.set_quarantine(&quarantine);
    const auto r =
        f.events("events", R"([{"id": 1}, {"id": "x\"y"}, {"id": 2, "colour": 3}, {"id": 3}])");
    CHECK(r.status == bhttp::status::accepted);
    const auto body = nlohmann::json::parse(r.body);
    CHECK(body["accepted"] == 2);
    CHECK(body["quarantined"] == 2);
    REQUIRE(body["errors"].size() == 2);
    CHECK(body["errors"][0]["index"] == 1);
    CHECK(body["errors"][0]["field"] == "id");
    CHECK(body["errors"][0]["expected"] == "UInt64");
    CHECK(body["errors"][1]["index"] == 2);
    CHECK(body["errors"][1]["field"] == "colour");
    // A request with nothing that fits is quarantined whole, and answered.
    const auto none = nlohmann::json::parse(f.events("events", R"({"id": -1})").body);
    CHECK(none["accepted"] == 0);
    CHECK(none["quarantined"] == 1);
    const auto& table = f.manager.registry().route("events").buffer->table();
    CHECK(table.stats().rows_quarantined_ingest.load() == 3);
    CHECK(table.stats().requests_rejected_invalid.load() == 0);
    // Clients cannot write into the quarantine table chgate made.
    CHECK(f.events("events_quarantine", R"({"id": 1})").status == bhttp::status::not_found);
    auto out = f.flushed();
    CHECK(out["INSERT INTO `default`.`events` FORMAT JSONEachRow"] == "{\"id\": 1}\n{\"id\": 3}\n");
    std::vector<nlohmann::json> quarantined;
    std::istringstream lines(out["INSERT INTO `default`.`events_quarantine` FORMAT JSONEachRow"]);
    for (std::string line; std::getline(lines, line);)
        quarantined.push_back(nlohmann::json::parse(line));
    REQUIRE(quarantined.size() == 3);
    CHECK(quarantined[0]["table"] == "events");
    CHECK(quarantined[0]["stage"] == "ingest");
    CHECK(quarantined[0]["code"] == 0);
    CHECK(quarantined[0]["field"] == "id");
    CHECK(quarantined[0]["row"] == R"({"id": "x\"y"})");  // byte for byte as sent
    CHECK_THAT(quarantined[0]["error"].get<std::string>(), Catch::Contains("UInt64"));
    CHECK(quarantined[1]["row"] == R"({"id": 2, "colour": 3})");
    CHECK(quarantined[2]["row"] == R"({"id": -1})");
}

TEST_CASE("a quarantine table that cannot take the events refuses the request") {
    Fixture f(R"y(
batching:
  tables:
    events: {ack: buffered, on_invalid: quarantine}
    events_quarantine: {ack: buffered, max_memory: 4KiB}
)y");
    Schemas schemas(*f.config);
    f.handler.set_row_checks(&schemas.checks);
    batch::Quarantine quarantine(f.manager);
    f.handler.set_quarantine(&quarantine);
    const std::string big = "{\"id\": \"" + std::string(5000, 'x') + "\"}";
    const auto r = f.events("events", "[{\"id\": 1}, " + big + "]");
    CHECK(r.status == bhttp::status::too_many_requests);
    CHECK_THAT(r.body, Catch::Contains("quarantine"));
    // Nothing of the request was stored.
    CHECK(f.flushed()["INSERT INTO `default`.`events` FORMAT JSONEachRow"].empty());
}
