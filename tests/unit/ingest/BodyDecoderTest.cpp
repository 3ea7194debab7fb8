#include <catch2/catch.hpp>

#include "ingest/BodyDecoder.hpp"

using namespace chgate;
using namespace chgate::ingest;

namespace {

std::vector<std::string> rows_of(std::string_view body, BodyFormat format = BodyFormat::detect) {
    std::vector<RowSlice> rows;
    DecodeError error;
    REQUIRE(decode_body(body, format, rows, error));
    std::vector<std::string> out;
    for (const auto& r : rows)
        out.emplace_back(body.substr(r.offset, r.length));
    return out;
}

DecodeError error_of(std::string_view body, BodyFormat format = BodyFormat::detect) {
    std::vector<RowSlice> rows;
    DecodeError error;
    REQUIRE_FALSE(decode_body(body, format, rows, error));
    return error;
}

}  // namespace

TEST_CASE("a single JSON object is one event") {
    CHECK(rows_of(R"({"a":1})") == std::vector<std::string>{R"({"a":1})"});
    CHECK(rows_of("  \n{\"a\":1}\n ") == std::vector<std::string>{R"({"a":1})"});
}

TEST_CASE("an array of objects is one event per element") {
    CHECK(rows_of(R"([{"a":1}, {"b":[2]} ,{"c":{}}])") ==
          std::vector<std::string>{R"({"a":1})", R"({"b":[2]})", R"({"c":{}})"});
    CHECK(rows_of("[]").empty());
    CHECK(rows_of(" [ ] ").empty());
}

TEST_CASE("NDJSON is one event per line blank lines skipped") {
    const auto body = "{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}";
    CHECK(rows_of(body) == std::vector<std::string>{R"({"a":1})", R"({"a":2})", R"({"a":3})"});
    CHECK(rows_of(body, BodyFormat::ndjson).size() == 3);
}

TEST_CASE("multi-line events are marked for folding") {
    std::vector<RowSlice> rows;
    DecodeError error;
    REQUIRE(decode_body("[{\n \"a\": 1\n}, {\"b\":2}]", BodyFormat::detect, rows, error));
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].has_line_break);
    CHECK_FALSE(rows[1].has_line_break);
}

TEST_CASE("a bad event refuses the whole body with its index and offset") {
    auto e = error_of(R"([{"a":1},{"b":2},3])");
    CHECK(e.index == 2);
    CHECK(e.offset == 17);
    CHECK_THAT(e.message, Catch::Contains("event 2 is not a JSON object"));

    e = error_of("{\"a\":1}\n{\"a\":2}\n{\"a\":}\n");
    CHECK(e.index == 2);
    CHECK(e.offset == 21);
    CHECK_THAT(e.message, Catch::Contains("event 2 is not valid JSON"));

    e = error_of(R"({"a":1}x)");
    CHECK(e.index == 1);
    CHECK(e.offset == 7);

    e = error_of("[{\"a\":1}");
    CHECK_THAT(e.message, Catch::Contains("not closed"));
    e = error_of("[{\"a\":1} {\"b\":1}]");
    CHECK_THAT(e.message, Catch::Contains("expected , or ]"));
    e = error_of("[{\"a\":1}] {}");
    CHECK_THAT(e.message, Catch::Contains("after the JSON array"));
    e = error_of("[1]");
    CHECK(e.index == 0);
    CHECK(e.offset == 1);
    e = error_of(R"("just a string")");
    CHECK_THAT(e.message, Catch::Contains("not a JSON object"));
}

TEST_CASE("an empty body has no events") {
    CHECK_THAT(error_of("").message, Catch::Contains("no events"));
    CHECK_THAT(error_of(" \n ").message, Catch::Contains("no events"));
}

TEST_CASE("NDJSON mode does not take arrays") {
    const auto e = error_of(R"([{"a":1}])", BodyFormat::ndjson);
    CHECK(e.index == 0);
    CHECK_THAT(e.message, Catch::Contains("not a JSON object"));
}
