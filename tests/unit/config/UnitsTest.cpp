#include <catch2/catch.hpp>

#include "config/Units.hpp"

using namespace chgate;
using namespace chgate::config;
using namespace std::chrono_literals;

TEST_CASE("durations take every unit the batch configuration guide lists") {
    CHECK(parse_duration("500ms") == 500ms);
    CHECK(parse_duration("2s") == 2s);
    CHECK(parse_duration("5m") == 5min);
    CHECK(parse_duration("1h") == 1h);
    CHECK(parse_duration("1d") == 24h);
    CHECK(parse_duration("30seconds") == 30s);
    CHECK(parse_duration("3 minutes") == 3min);
    CHECK(parse_duration("250milliseconds") == 250ms);
    CHECK(parse_duration("2hours") == 2h);
    CHECK(parse_duration("7days") == 7 * 24h);
    CHECK(parse_duration("0") == 0ms);
}

TEST_CASE("durations without a unit or with a bad one are refused") {
    CHECK_FALSE(parse_duration("2").has_value());
    CHECK_FALSE(parse_duration("").has_value());
    CHECK_FALSE(parse_duration("s").has_value());
    CHECK_FALSE(parse_duration("2 sec").has_value());
    CHECK_FALSE(parse_duration("-1s").has_value());
    CHECK_FALSE(parse_duration("1.5s").has_value());
    CHECK_FALSE(parse_duration("99999999999999d").has_value());
}

TEST_CASE("sizes take binary and decimal units or plain bytes") {
    CHECK(parse_size("512KiB") == 512u * 1024);
    CHECK(parse_size("10MiB") == 10u * 1024 * 1024);
    CHECK(parse_size("1GiB") == 1ull << 30);
    CHECK(parse_size("10MB") == 10'000'000u);
    CHECK(parse_size("1000") == 1000u);
    CHECK(parse_size("64B") == 64u);
    CHECK_FALSE(parse_size("10 megabytes").has_value());
    CHECK_FALSE(parse_size("MiB").has_value());
    CHECK_FALSE(parse_size("-5").has_value());
    CHECK_FALSE(parse_size("99999999999999999TiB").has_value());
}

TEST_CASE("formatting picks the largest exact unit") {
    CHECK(format_duration(2000ms) == "2s");
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(300s) == "5m");
    CHECK(format_duration(0ms) == "0s");
    CHECK(format_size(10u * 1024 * 1024) == "10MiB");
    CHECK(format_size(1000) == "1000");
    for (auto text : {"512KiB", "10MiB", "2s", "5m"}) {
        if (auto d = parse_duration(text)) CHECK(format_duration(*d) == text);
        if (auto s = parse_size(text)) CHECK(format_size(*s) == text);
    }
}
