#include <catch2/catch.hpp>
#include <thread>

#include "util/Log.hpp"

using namespace chgate;
using namespace chgate::log;
using namespace std::chrono_literals;

TEST_CASE(
    "a call site writes at most the rate limit's lines per interval, then says how many "
    "it dropped") {
    set_rate_limit(3, 200ms);
    Site site;
    std::uint64_t suppressed = 99;
    int written = 0;
    for (int i = 0; i < 10; ++i) {
        if (admit(site, suppressed)) {
            ++written;
            CHECK(suppressed == 0);
        }
    }
    CHECK(written == 3);
    // A new interval: the next line goes out and carries the count.
    while (!admit(site, suppressed))
        std::this_thread::sleep_for(20ms);
    CHECK(suppressed >= 7);
    set_rate_limit(0, 1s);  // no limit
    for (int i = 0; i < 100; ++i)
        CHECK(admit(site, suppressed));
    set_rate_limit(20, 10s);  // the default, for the other tests
}

namespace {
const std::string kTs = "2026-11-21T10:30:15.123Z";
}

TEST_CASE("a line in each format, with its fields") {
    const std::vector<Field> fields{table("events"), batch_id(17), rows(1000),
                                    bytes(52000),    code(27),     replica("http://ch1:8123")};
    CHECK(format_line(LogFormat::text, kTs, LogLevel::warn, "batch 17 failed", fields) ==
          kTs + " WARN  batch 17 failed");
    CHECK(format_line(LogFormat::json, kTs, LogLevel::warn, "batch 17 failed", fields) ==
          R"({"ts":"2026-11-21T10:30:15.123Z","level":"warn","msg":"batch 17 failed",)"
          R"("table":"events","batch_id":17,"rows":1000,"bytes":52000,"code":27,)"
          R"("replica":"http://ch1:8123"})");
    CHECK(format_line(LogFormat::logfmt, kTs, LogLevel::warn, "batch 17 failed", fields) ==
          "ts=2026-11-21T10:30:15.123Z level=warn msg=\"batch 17 failed\" table=events "
          "batch_id=17 rows=1000 bytes=52000 code=27 replica=http://ch1:8123");
    CHECK(format_line(LogFormat::logfmt, kTs, LogLevel::debug, "idle", {}) ==
          "ts=2026-11-21T10:30:15.123Z level=debug msg=idle");
}

TEST_CASE("what a client or ClickHouse sent cannot break a json or logfmt line") {
    // Messages arrive escaped (escape_for_log); quotes remain. Fields are
    // escaped the same way (a backslash doubled, a newline as \n).
    const std::string message = R"(Cannot parse "x\"y" = 1 \x0a)";
    const auto json =
        format_line(LogFormat::json, kTs, LogLevel::error, message, {table("we\"ird\\name\nx")});
    CHECK(json == R"({"ts":"2026-11-21T10:30:15.123Z","level":"error",)"
                  R"("msg":"Cannot parse \"x\\\"y\" = 1 \\x0a","table":"we\"ird\\\\name\\nx"})");
    const auto logfmt =
        format_line(LogFormat::logfmt, kTs, LogLevel::error, message, {table("a b"), table("")});
    CHECK(logfmt == R"(ts=2026-11-21T10:30:15.123Z level=error msg="Cannot parse \"x\\\"y\" = 1 )"
                    R"(\\x0a" table="a b" table="")");
    // A field's value is cut at 1 KiB.
    const auto long_field = table(std::string(5000, 'x'));
    CHECK(long_field.value.size() < 1100);
}
