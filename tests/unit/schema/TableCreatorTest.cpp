#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "config/SqlFiles.hpp"
#include "schema/TableCreator.hpp"
#include "support/TempDir.hpp"

using namespace chgate;
using Catch::Contains;

TEST_CASE("a SQL file splits into statements as deploy/apply-sql.sh splits it") {
    const auto s = config::sql_statements(
        "-- a comment\n"
        "CREATE DATABASE IF NOT EXISTS app;\n"
        "\n"
        "CREATE TABLE app.t (\n"
        "    id UInt64 -- the key\n"
        ") ENGINE = MergeTree() ORDER BY id;   \n"
        "  -- an indented comment\n"
        "SELECT 1");
    REQUIRE(s.size() == 3);
    CHECK(s[0] == "CREATE DATABASE IF NOT EXISTS app");
    CHECK_THAT(s[1], Contains("id UInt64 -- the key\n) ENGINE = MergeTree() ORDER BY id"));
    CHECK(s[2] == "SELECT 1\n");
    CHECK(config::sql_statements("-- only\n\n").empty());
}

TEST_CASE("create_tables names files that exist, sorted per glob, and bounded") {
    test::TempDir dir("chgate-sql");
    std::filesystem::create_directories(dir.path);
    for (const char* name : {"b.sql", "a.sql"}) {
        std::ofstream(dir.path.string() + "/" + name) << "SELECT 1;\n";
    }
    std::string error;
    const auto files = config::sql_files({dir.path.string() + "/*.sql"}, error);
    CHECK(files ==
          std::vector<std::string>{dir.path.string() + "/a.sql", dir.path.string() + "/b.sql"});
    CHECK(config::sql_files({dir.path.string() + "/none*.sql"}, error).empty());
    CHECK_THAT(error, Contains("names no file"));
    CHECK(config::sql_files({dir.path}, error).empty());
    CHECK_THAT(error, Contains("is not a readable file"));
    std::ofstream(dir.path.string() + "/big.sql") << std::string(config::kMaxSqlFileSize + 1, ' ');
    CHECK(config::sql_files({dir.path.string() + "/big.sql"}, error).empty());
    CHECK_THAT(error, Contains("larger than 1 MiB"));
}

namespace {
clickhouse::HttpResponse answer(long status, std::string body = {}, int code = 0) {
    clickhouse::HttpResponse r;
    r.transport_ok = true;
    r.status = status;
    r.body = std::move(body);
    if (code != 0) r.exception_code = code;
    return r;
}
}  // namespace

TEST_CASE("statements run in order; busy waits, refused is skipped, existing is done") {
    test::TempDir dir("chgate-sql");
    std::filesystem::create_directories(dir.path);
    std::ofstream(dir.path.string() + "/t.sql") << "CREATE DATABASE d;\nCREATE TABLE d.t (x UInt8) "
                                                   "ENGINE = Memory;\nBROKEN;\nSELECT 2;\n";
    std::vector<std::string> ran;
    std::vector<clickhouse::HttpResponse> answers = {
        answer(500, "Code: 82. DB::Exception: Database d already exists", 82),
        clickhouse::HttpResponse{},  // not reachable: wait
        answer(200),                 // the CREATE TABLE, again
        answer(400, "Code: 62. DB::Exception: Syntax error", 62),
        answer(200),
    };
    bool done = false;
    schema::TableCreator creator(
        {dir.path.string() + "/t.sql"},
        [&](const std::string& sql, std::size_t) {
            ran.push_back(sql);
            auto a = answers.front();
            answers.erase(answers.begin());
            return a;
        },
        [&] { done = true; });
    // start() would run the rounds on a thread; the test runs them itself.
    creator.load();
    CHECK(creator.state().statements == 4);
    CHECK_FALSE(creator.run_once());  // the database exists; the table must wait
    CHECK(ran.size() == 2);
    CHECK_FALSE(done);
    CHECK(creator.run_once());
    CHECK(done);
    CHECK(ran.size() == 5);
    CHECK(ran[2] == ran[1]);  // the same statement again
    CHECK(ran[3] == "BROKEN");
    const auto state = creator.state();
    CHECK(state.applied == 3);
    CHECK(state.failed == 1);
    CHECK_THAT(state.last_error, Contains("Syntax error"));
    CHECK(creator.run_once());  // nothing left
    CHECK(ran.size() == 5);
}
