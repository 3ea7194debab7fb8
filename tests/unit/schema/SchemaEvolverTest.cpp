#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <set>

#include "ingest/ColumnInference.hpp"
#include "schema/SchemaEvolver.hpp"
#include "schema/TableDdl.hpp"
#include "support/HttpAnswer.hpp"

using namespace chgate;
using namespace chgate::schema;
using namespace std::chrono_literals;
using Catch::Contains;

namespace {

using test::http_answer;

/// Two servers: each ALTER is answered `alter`; system.columns shows a
/// column on a server once `has` says so.
struct Servers {
    clickhouse::HttpResponse alter = http_answer("");
    std::deque<clickhouse::HttpResponse> first_alters;  // answered before `alter`
    std::map<std::string, std::set<std::string>> has;   // url -> columns
    bool alter_adds = true;                             // an ALTER that goes in adds it everywhere
    std::vector<std::pair<std::string, std::string>> queries;  // url, sql
    std::set<std::string> known;                               // what the schema cache has read
    std::vector<std::string> reports;

    SchemaEvolver make(std::string cluster = "") {
        return SchemaEvolver(
            [this](const std::string& url, const std::string& sql) {
                queries.emplace_back(url, sql);
                if (sql.starts_with("ALTER")) {
                    if (!first_alters.empty()) {
                        auto r = first_alters.front();
                        first_alters.pop_front();
                        return r;
                    }
                    if (alter.status == 200 && alter_adds) {
                        const auto name = sql.substr(sql.find("ADD COLUMN `") + 12);
                        for (auto& [u, columns] : has)
                            columns.insert(name.substr(0, name.find('`')));
                    }
                    return alter;
                }
                const auto name = sql.substr(sql.find("AND name = '") + 12);
                return http_answer(has[url].contains(name.substr(0, name.find('\''))) ? "1\n"
                                                                                      : "0\n");
            },
            [] {
                return std::vector<std::string>{"http://a", "http://b"};
            },
            [this](const SchemaEvolver::Key&, const std::string& column) {
                return known.contains(column);
            },
            [this](const SchemaEvolver::Key&, const NewColumn& c, const std::string& error) {
                reports.push_back(c.name + (error.empty() ? " added" : " failed: " + error));
            },
            std::move(cluster), 10s);
    }
    Servers() {
        has["http://a"];
        has["http://b"];
    }
};

const SchemaEvolver::Key kEvents{"db", "events"};

SchemaEvolver::Limits limits(std::size_t max_columns = 100, int per_minute = 10) {
    SchemaEvolver::Limits l;
    l.max_columns = max_columns;
    l.per_minute = per_minute;
    return l;
}

}  // namespace

TEST_CASE("a new field's type comes from its first value, always Nullable") {
    std::string scratch;
    const ingest::CheckOptions basic;
    auto type = [&](std::string_view v, bool coerce = false) {
        const auto t = ingest::infer_column_type(v, basic, coerce, scratch);
        return t.why_not != nullptr ? std::string("none: ") + t.why_not : t.type;
    };
    CHECK(type("true") == "Nullable(UInt8)");
    CHECK(type("false") == "Nullable(UInt8)");
    CHECK(type("12") == "Nullable(Int64)");
    CHECK(type("-9223372036854775808") == "Nullable(Int64)");
    CHECK(type("18446744073709551615") == "Nullable(UInt64)");
    CHECK_THAT(type("18446744073709551616"), Contains("past UInt64"));
    CHECK(type("1.5") == "Nullable(Float64)");
    CHECK(type("1e3") == "Nullable(Float64)");
    CHECK(type(R"("red")") == "Nullable(String)");
    CHECK(type(R"("123")") == "Nullable(String)");  // digits are not taken for a unix time
    CHECK(type(R"("2026-12-03 10:00:00")") == "Nullable(DateTime)");
    // ISO 8601 with a zone: a DateTime only where it is rewritten (coerce).
    CHECK(type(R"("2026-12-03T10:00:00Z")") == "Nullable(String)");
    CHECK(type(R"("2026-12-03T10:00:00Z")", true) == "Nullable(DateTime)");
    CHECK(type(R"("2026-13-03 10:00:00")") == "Nullable(String)");  // not on the calendar
    CHECK_THAT(type("null"), Contains("null"));
    CHECK_THAT(type(R"({"a": 1})"), Contains("object or an array"));
    CHECK_THAT(type("[1]"), Contains("object or an array"));
}

TEST_CASE("ADD COLUMN names the table, the cluster and the column, quoted") {
    CHECK(add_column_sql("db", "t", "c", "Nullable(Int64)", "") ==
          "ALTER TABLE `db`.`t` ADD COLUMN `c` Nullable(Int64)");
    CHECK(add_column_sql("db", "t", "c", "Nullable(String)", "main") ==
          "ALTER TABLE `db`.`t` ON CLUSTER `main` ADD COLUMN `c` Nullable(String)");
}

TEST_CASE("a proposed column is pending until every server shows it, then forgotten once read") {
    Servers s;
    auto e = s.make();
    const auto now = SchemaEvolver::Clock::now();
    CHECK_FALSE(e.waits(kEvents));
    const auto v0 = e.version();
    const auto a = e.propose(kEvents, {"colour", "Nullable(String)"}, 3, limits(), now);
    CHECK(a.verdict == SchemaEvolver::Verdict::pending);
    CHECK(e.version() != v0);
    REQUIRE(e.extra(kEvents));
    CHECK(*e.extra(kEvents) == std::vector<NewColumn>{{"colour", "Nullable(String)"}});
    CHECK(e.waits(kEvents));
    CHECK_FALSE(e.waits({"db", "other"}));
    // The same field again is the same change.
    CHECK(e.propose(kEvents, {"colour", "Nullable(String)"}, 4, limits(), now).verdict ==
          SchemaEvolver::Verdict::pending);
    CHECK(e.extra(kEvents)->size() == 1);
    // Without a cluster, the ALTER goes to every server; then each is asked.
    e.run_once(now);
    REQUIRE(s.queries.size() == 4);
    CHECK(s.queries[0] ==
          std::pair<std::string, std::string>{
              "http://a", "ALTER TABLE `db`.`events` ADD COLUMN `colour` Nullable(String)"});
    CHECK(s.queries[1].first == "http://b");
    CHECK_THAT(s.queries[2].second, Contains("FROM system.columns WHERE database = 'db' AND "
                                             "table = 'events' AND name = 'colour'"));
    CHECK_FALSE(e.waits(kEvents));  // on every server: the batches go
    CHECK(s.reports == std::vector<std::string>{"colour added"});
    // Still taken by the row checks until the schema cache has read it.
    CHECK(e.extra(kEvents));
    e.run_once(now + 1s);
    CHECK(e.extra(kEvents));
    s.known.insert("colour");
    e.run_once(now + 2s);
    CHECK_FALSE(e.extra(kEvents));
}

TEST_CASE("on a cluster one ALTER goes ON CLUSTER, and a column that exists is no failure") {
    Servers s;
    s.alter = http_answer(
        "Code: 15, e.displayText() = DB::Exception: Cannot add column colour: column "
        "with this name already exists",
        500);
    s.has["http://a"].insert("colour");
    s.has["http://b"].insert("colour");
    auto e = s.make("main");
    const auto now = SchemaEvolver::Clock::now();
    auto l = limits();
    l.also_table = "events_all";
    e.propose({"db", "events_local"}, {"colour", "Nullable(String)"}, 3, l, now);
    e.run_once(now);
    REQUIRE(s.queries.size() >= 3);
    CHECK(s.queries[0].first.empty());  // any server
    CHECK_THAT(s.queries[0].second, Contains("`db`.`events_local` ON CLUSTER `main` ADD COLUMN"));
    // The Distributed table on each server: ON CLUSTER refuses a table that is
    // not Replicated on a cluster whose shards are (code 371).
    CHECK(s.queries[1] ==
          std::pair<std::string, std::string>{
              "http://a", "ALTER TABLE `db`.`events_all` ADD COLUMN `colour` Nullable(String)"});
    CHECK(s.queries[2].first == "http://b");
    CHECK(s.reports == std::vector<std::string>{"colour added"});
}

TEST_CASE("a table ON CLUSTER refuses for not being Replicated is altered on each server") {
    Servers s;
    auto e = s.make("main");
    s.first_alters.push_back(http_answer(
        "Code: 371, e.displayText() = DB::Exception: There was an error on [127.0.0.1:9000]: "
        "Table events isn't replicated, but shard #2 is replicated according to its cluster "
        "definition",
        500));
    const auto now = SchemaEvolver::Clock::now();
    e.propose(kEvents, {"colour", "Nullable(String)"}, 3, limits(), now);
    e.run_once(now);
    REQUIRE(s.queries.size() == 5);  // ON CLUSTER, a, b, then system.columns on a and b
    CHECK(s.queries[1] ==
          std::pair<std::string, std::string>{"http://a",
                                              "ALTER TABLE `db`.`events` ADD COLUMN `colour` "
                                              "Nullable(String)"});
    CHECK(s.queries[2].first == "http://b");
    CHECK(s.reports == std::vector<std::string>{"colour added"});
}

TEST_CASE("a column missing on one server keeps the batches waiting until it fails") {
    Servers s;
    s.alter_adds = false;  // the ALTER answers 200, but server b never shows the column
    s.has["http://a"].insert("colour");
    auto e = s.make();
    const auto now = SchemaEvolver::Clock::now();
    e.propose(kEvents, {"colour", "Nullable(String)"}, 3, limits(), now);
    e.run_once(now);
    CHECK(e.waits(kEvents));
    CHECK(s.reports.empty());
    CHECK(e.next_due() <= SchemaEvolver::Clock::now() + 1s);
    e.run_once(now + 5s);
    CHECK(e.waits(kEvents));
    e.run_once(now + 11s);  // past verify_for
    CHECK_FALSE(e.waits(kEvents));
    REQUIRE(s.reports.size() == 1);
    CHECK_THAT(s.reports[0], Contains("colour failed: the column was not on every server"));
    CHECK_THAT(s.reports[0], Contains("http://b does not have it"));
    CHECK_FALSE(e.extra(kEvents));  // the row checks no longer take the field
    // The field is refused for a while, with the reason, then tried again.
    const auto a = e.propose(kEvents, {"colour", "Nullable(String)"}, 3, limits(), now + 12s);
    CHECK(a.verdict == SchemaEvolver::Verdict::failed);
    CHECK_THAT(a.reason, Contains("adding it as a column failed"));
    CHECK(e.propose(kEvents, {"colour", "Nullable(String)"}, 3, limits(),
                    now + 12s + SchemaEvolver::kFailedFor)
              .verdict == SchemaEvolver::Verdict::pending);
}

TEST_CASE("an ALTER the server refuses fails at once") {
    Servers s;
    s.alter = http_answer("Code: 497, e.displayText() = DB::Exception: not enough privileges", 500);
    auto e = s.make();
    const auto now = SchemaEvolver::Clock::now();
    e.propose(kEvents, {"colour", "Nullable(String)"}, 3, limits(), now);
    e.run_once(now);
    CHECK_FALSE(e.waits(kEvents));
    REQUIRE(s.reports.size() == 1);
    CHECK_THAT(s.reports[0], Contains("Code: 497"));
}

TEST_CASE("ALTERs are bounded by the table's rate, max_columns and the evolver's capacity") {
    Servers s;
    auto e = s.make();
    const auto now = SchemaEvolver::Clock::now();
    CHECK(e.propose(kEvents, {"a", "Nullable(Int64)"}, 3, limits(100, 2), now).verdict ==
          SchemaEvolver::Verdict::pending);
    CHECK(e.propose(kEvents, {"b", "Nullable(Int64)"}, 4, limits(100, 2), now + 10s).verdict ==
          SchemaEvolver::Verdict::pending);
    const auto limited = e.propose(kEvents, {"c", "Nullable(Int64)"}, 5, limits(100, 2), now + 20s);
    CHECK(limited.verdict == SchemaEvolver::Verdict::rate_limited);
    CHECK(limited.retry_after == 40s);  // when the first ALTER leaves the minute
    CHECK_THAT(limited.reason, Contains("at most 2 columns a minute"));
    // Other tables have their own rate.
    CHECK(e.propose({"db", "other"}, {"c", "Nullable(Int64)"}, 5, limits(100, 2), now + 20s)
              .verdict == SchemaEvolver::Verdict::pending);
    CHECK(e.propose(kEvents, {"c", "Nullable(Int64)"}, 5, limits(100, 2), now + 61s).verdict ==
          SchemaEvolver::Verdict::pending);
    const auto wide = e.propose(kEvents, {"d", "Nullable(Int64)"}, 6, limits(6, 100), now + 61s);
    CHECK(wide.verdict == SchemaEvolver::Verdict::too_many_columns);
    CHECK_THAT(wide.reason, Contains("max_columns is 6"));
    // At most kMaxPending changes at once, over all tables.
    std::size_t pending = 4;
    for (std::size_t i = 0; pending < SchemaEvolver::kMaxPending; ++i, ++pending) {
        REQUIRE(e.propose({"db", "t" + std::to_string(i)}, {"x", "Nullable(Int64)"}, 1, limits(),
                          now + 61s)
                    .verdict == SchemaEvolver::Verdict::pending);
    }
    CHECK(e.propose({"db", "one_more"}, {"x", "Nullable(Int64)"}, 1, limits(), now + 61s).verdict ==
          SchemaEvolver::Verdict::busy);
}

TEST_CASE("an ALTER that could not reach a server is sent again the next round") {
    Servers s;
    clickhouse::HttpResponse down;
    down.transport_error = "Connection refused";
    s.first_alters = {down, down};  // the first round's ALTER, on both servers
    auto e = s.make();
    const auto now = SchemaEvolver::Clock::now();
    e.propose(kEvents, {"colour", "Nullable(String)"}, 3, limits(), now);
    e.run_once(now);
    CHECK(e.waits(kEvents));  // still pending: not failed at once
    CHECK(s.reports.empty());
    e.run_once(now + 1s);  // the ALTER again, and it goes in
    CHECK_FALSE(e.waits(kEvents));
    CHECK(s.reports == std::vector<std::string>{"colour added"});
    std::size_t alters = 0;
    for (const auto& [url, sql] : s.queries)
        alters += sql.starts_with("ALTER") ? 1 : 0;
    CHECK(alters == 4);
}
