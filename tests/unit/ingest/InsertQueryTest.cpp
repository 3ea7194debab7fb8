#include <catch2/catch.hpp>

#include "ingest/InsertQuery.hpp"

using namespace chgate;
using namespace chgate::ingest;

namespace {
InsertQuery parse(std::string_view q) {
    InsertQuery out;
    std::string error;
    INFO(q);
    REQUIRE(parse_insert_query(q, out, error));
    return out;
}
std::string error_of(std::string_view q) {
    InsertQuery out;
    std::string error;
    CHECK_FALSE(parse_insert_query(q, out, error));
    return error;
}
}  // namespace

TEST_CASE("INSERT statements in any spacing and case") {
    auto q = parse("INSERT INTO events FORMAT JSONEachRow");
    CHECK(q.table.database.empty());
    CHECK(q.table.table == "events");
    CHECK(q.columns.empty());
    CHECK(q.data.empty());

    q = parse("  insert\ninto\tanalytics.events   format   jsoneachrow  ");
    CHECK(q.table.database == "analytics");
    CHECK(q.table.table == "events");

    q = parse("INSERT INTO TABLE `db`.\"t\" FORMAT JSONEachRow");
    CHECK(q.table.database == "db");
    CHECK(q.table.table == "t");
}

TEST_CASE("column lists are sorted so equal lists share a batch") {
    const auto a = parse("INSERT INTO t (b, a, `c`) FORMAT JSONEachRow");
    const auto b = parse("insert into t(a,b,c)format JSONEachRow");
    CHECK(a.columns == std::vector<std::string>{"a", "b", "c"});
    CHECK(a.columns == b.columns);
}

TEST_CASE("rows may follow the statement") {
    const auto q = parse("INSERT INTO t FORMAT JSONEachRow\n{\"a\":1}\n{\"a\":2}\n");
    CHECK(q.data == "{\"a\":1}\n{\"a\":2}\n");
    CHECK(parse("INSERT INTO t FORMAT JSONEachRow {\"a\":1}").data == "{\"a\":1}");
    CHECK(parse("INSERT INTO t FORMAT JSONEachRow{\"a\":1}").data == "{\"a\":1}");
}

TEST_CASE("anything else is refused with a clear message") {
    using Catch::Contains;
    CHECK_THAT(error_of("SELECT 1"), Contains("chgate is not a SQL proxy"));
    CHECK_THAT(error_of("DROP TABLE events"), Contains("not a SQL proxy"));
    CHECK_THAT(error_of("INSERT events FORMAT JSONEachRow"), Contains("expected INTO"));
    CHECK_THAT(error_of("INSERT INTO t VALUES (1)"), Contains("no VALUES"));
    CHECK_THAT(error_of("INSERT INTO t SELECT * FROM u"), Contains("no VALUES, SELECT"));
    CHECK_THAT(error_of("INSERT INTO t FORMAT CSV"), Contains("format \"CSV\" is not supported"));
    CHECK_THAT(error_of("INSERT INTO t FORMAT JSONEachRowX"), Contains("is not supported"));
    CHECK_THAT(error_of("INSERT INTO t"), Contains("expected FORMAT JSONEachRow"));
    CHECK_THAT(error_of("INSERT INTO `evil; DROP` FORMAT JSONEachRow"), Contains("a table name"));
    CHECK_THAT(error_of("INSERT INTO `evil`; DROP FORMAT JSONEachRow"),
               Contains("expected FORMAT"));
    CHECK_THAT(error_of("INSERT INTO t (a, a) FORMAT JSONEachRow"), Contains("listed twice"));
    CHECK_THAT(error_of("INSERT INTO t (a b) FORMAT JSONEachRow"), Contains(", or )"));
    CHECK_THAT(error_of("INSERT INTO t (`a-b`) FORMAT JSONEachRow"), Contains("a column name"));
    CHECK_THAT(error_of("INSERT INTO db. FORMAT JSONEachRow"), Contains("after the database"));
    CHECK_THAT(error_of("INSERT INTO t FORMAT JSONEachRow;"), Contains("whitespace or rows"));
}
