#include <catch2/catch.hpp>

#include "schema/SchemaCache.hpp"
#include "support/HttpAnswer.hpp"

using namespace chgate;
using namespace chgate::schema;
using namespace std::chrono_literals;
using Catch::Contains;

namespace {

// What 18.16 answers for a table of two columns.
const char* kTwoColumns = R"({
	"meta": [{"name": "name", "type": "String"}, {"name": "type", "type": "String"},
		{"name": "default_kind", "type": "String"}],
	"data": [["id", "UInt64", ""], ["day", "Date", "MATERIALIZED"]],
	"rows": 2
})";

using test::http_answer;

/// A ClickHouse that answers what `next` holds, and counts the queries.
struct FakeServer {
    clickhouse::HttpResponse next = http_answer(kTwoColumns);
    std::vector<std::string> queries;
    SchemaCache::Query query() {
        return [this](const std::string& sql, std::size_t) {
            queries.push_back(sql);
            return next;
        };
    }
};

}  // namespace

TEST_CASE("system.columns is read in the table's order, with default kinds") {
    std::string error;
    const auto columns = parse_system_columns(kTwoColumns, error);
    REQUIRE(columns);
    CHECK(*columns == std::vector<Column>{{"id", "UInt64", ""}, {"day", "Date", "MATERIALIZED"}});
    CHECK(parse_system_columns(R"({"data": []})", error)->empty());
    CHECK_FALSE(parse_system_columns("Code: 60. DB::Exception", error));
    CHECK_THAT(error, Contains("unexpected shape"));
    CHECK_FALSE(parse_system_columns(R"({"data": [["id", 5, ""]]})", error));
    CHECK_THAT(system_columns_query("db", "t"),
               Contains("WHERE database = 'db' AND table = 't' FORMAT JSONCompact"));
}

TEST_CASE("a table with more columns than chgate reads is refused, not half read") {
    std::string json = R"({"data": [)";
    for (std::size_t i = 0; i <= kMaxColumns; ++i)
        json += std::string(i ? "," : "") + R"(["c)" + std::to_string(i) + R"(", "UInt8", ""])";
    json += "]}";
    std::string error;
    CHECK_FALSE(parse_system_columns(json, error));
    CHECK_THAT(error, Contains("at most 10000"));
}

TEST_CASE("a wanted table is read at the next round, then every refresh") {
    FakeServer server;
    SchemaCache cache(server.query(), 60s, 10);
    const auto t0 = SchemaCache::Clock::now();
    CHECK_FALSE(cache.get("db", "t"));
    CHECK(cache.want("db", "t"));
    CHECK(cache.want("db", "t"));  // once
    REQUIRE(cache.get("db", "t"));
    CHECK_FALSE(cache.get("db", "t")->columns);  // not read yet
    cache.run_once(t0);
    CHECK(server.queries.size() == 1);
    auto known = *cache.get("db", "t");
    REQUIRE(known.columns);
    CHECK(known.exists);
    CHECK(known.columns->size() == 2);
    CHECK(cache.next_due() == t0 + 60s);
    cache.run_once(t0 + 59s);
    CHECK(server.queries.size() == 1);
    // A column added: read at the refresh; the same columns keep their list.
    server.next = http_answer(R"({"data": [["id", "UInt64", ""], ["day", "Date", "MATERIALIZED"],
                                       ["note", "String", ""]]})");
    cache.run_once(t0 + 60s);
    CHECK(cache.get("db", "t")->columns->size() == 3);
    const auto list = cache.get("db", "t")->columns;
    cache.run_once(t0 + 120s);
    CHECK(cache.get("db", "t")->columns == list);
}

TEST_CASE("refresh reads one table again at once, refresh_all every table") {
    FakeServer server;
    SchemaCache cache(server.query(), 60s, 10);
    const auto t0 = SchemaCache::Clock::now();
    cache.want("db", "a");
    cache.want("db", "b");
    cache.run_once(t0);
    CHECK(server.queries.size() == 2);
    cache.refresh("db", "a");
    cache.refresh("db", "never_wanted");  // not made by a refresh
    cache.run_once(t0 + 1s);
    CHECK(server.queries.size() == 3);
    CHECK_THAT(server.queries.back(), Contains("table = 'a'"));
    cache.refresh_all();
    cache.run_once(t0 + 2s);
    CHECK(server.queries.size() == 5);
    CHECK(cache.size() == 2);
}

TEST_CASE("a table that does not exist is known as missing, and read again later") {
    FakeServer server;
    server.next = http_answer(R"({"data": []})");
    SchemaCache cache(server.query(), 60s, 10);
    const auto t0 = SchemaCache::Clock::now();
    cache.want("db", "later");
    cache.run_once(t0);
    const auto known = *cache.get("db", "later");
    REQUIRE(known.columns);
    CHECK_FALSE(known.exists);
    server.next = http_answer(kTwoColumns);
    cache.run_once(t0 + 60s);
    CHECK(cache.get("db", "later")->exists);
}

TEST_CASE("a failed read keeps what was known, says why, and is tried again soon") {
    FakeServer server;
    SchemaCache cache(server.query(), 60s, 10);
    const auto t0 = SchemaCache::Clock::now();
    cache.want("db", "t");
    cache.run_once(t0);
    server.next = clickhouse::HttpResponse{};
    server.next.transport_error = "Couldn't connect to server";
    cache.run_once(t0 + 60s);
    auto known = *cache.get("db", "t");
    CHECK(known.columns->size() == 2);
    CHECK(known.error == "Couldn't connect to server");
    CHECK(cache.next_due() == t0 + 65s);
    server.next = http_answer("Code: 497. DB::Exception: Not enough privileges", 500);
    cache.run_once(t0 + 65s);
    CHECK_THAT(cache.get("db", "t")->error, Contains("HTTP 500: Code: 497"));
    server.next = http_answer(kTwoColumns);
    server.next.truncated = true;
    cache.run_once(t0 + 70s);
    CHECK_THAT(cache.get("db", "t")->error, Contains("answer is over"));
    server.next.truncated = false;
    cache.run_once(t0 + 75s);
    CHECK(cache.get("db", "t")->error.empty());
}

TEST_CASE("the cache holds at most max_tables, and forgets tables chgate no longer has") {
    FakeServer server;
    SchemaCache cache(server.query(), 60s, 2);
    std::vector<SchemaCache::Key> live = {{"db", "a"}, {"db", "b"}};
    cache.follow([&] { return live; });
    CHECK(cache.want("db", "a"));
    CHECK(cache.want("db", "b"));
    CHECK_FALSE(cache.want("db", "c"));  // full
    CHECK_FALSE(cache.get("db", "c"));
    live = {{"db", "b"}};  // a closed when idle
    cache.run_once(SchemaCache::Clock::now());
    CHECK_FALSE(cache.get("db", "a"));
    CHECK(cache.want("db", "c"));
    CHECK(cache.size() == 2);
    // A table wanted while the registry was being listed is kept.
    live = {};
    cache.run_once(SchemaCache::Clock::now());
    CHECK(cache.size() == 0);
    cache.follow([&] {
        cache.want("db", "new");  // made meanwhile: not in this list
        return live;
    });
    cache.run_once(SchemaCache::Clock::now());
    CHECK(cache.get("db", "new"));
}

TEST_CASE("a missing table chgate makes is created and read again; a failed CREATE retries") {
    std::vector<std::string> queries;
    bool created = false;
    bool refuse = true;
    SchemaCache cache(
        [&](const std::string& sql, std::size_t) {
            queries.push_back(sql);
            if (sql.rfind("CREATE", 0) == 0) {
                if (refuse)
                    return http_answer("Code: 497, e.displayText() = DB::Exception: no", 500);
                created = true;
                return http_answer("");
            }
            return http_answer(created ? kTwoColumns : R"({"data": []})");
        },
        60s, 10);
    cache.creates([](const SchemaCache::Key& key) {
        return key.second == "q" ? "CREATE TABLE " + key.first + ".q" : std::string();
    });
    const auto t0 = SchemaCache::Clock::now();
    cache.want("db", "q");
    cache.want("db", "other");
    cache.run_once(t0);
    // "other" is missing and left alone; "q" could not be created yet.
    CHECK_FALSE(cache.get("db", "other")->exists);
    CHECK(cache.get("db", "other")->columns);
    CHECK_FALSE(cache.get("db", "q")->columns);
    CHECK_THAT(cache.get("db", "q")->error, Contains("creating it failed: HTTP 500"));
    refuse = false;
    cache.run_once(t0 + 60s);
    REQUIRE(cache.get("db", "q")->columns);
    CHECK(cache.get("db", "q")->exists);
    CHECK(std::count(queries.begin(), queries.end(), "CREATE TABLE db.q") == 2);
}
