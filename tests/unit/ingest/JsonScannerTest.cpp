#include <catch2/catch.hpp>
#include <string>

#include "ingest/JsonScanner.hpp"

using namespace chgate;
using namespace chgate::ingest;

namespace {
ValueScan scan(std::string_view s) {
    return scan_value(s, 0);
}
bool valid_whole(std::string_view s) {
    const auto r = scan(s);
    return r.ok() && r.end == s.size();
}
}  // namespace

TEST_CASE("valid JSON values are accepted whole") {
    for (auto s : {R"({})", R"([])", R"({"a":1})", R"({"a":[1,2,{"b":null}],"c":"x"})", R"("text")",
                   R"(0)", R"(-0.5e+10)", R"(12.25E-3)", R"(true)", R"(false)", R"(null)",
                   R"({ "a" : [ ] , "b" : { } })", R"(["\u00e9\n\t\"\\\/"])",
                   "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", R"([[[[[]]]]])"}) {
        INFO(s);
        CHECK(valid_whole(s));
    }
}

TEST_CASE("the scan stops at the end of the value") {
    const auto r = scan(R"({"a":1} {"b":2})");
    REQUIRE(r.ok());
    CHECK(r.end == 7);
}

TEST_CASE("line breaks are reported since rows must fit on one line") {
    CHECK_FALSE(scan(R"({"a":"x y"})").has_line_break);
    CHECK(scan("{\n\"a\":1\r\n}").has_line_break);
}

TEST_CASE("invalid JSON names the fault and where it is") {
    struct Case {
        std::string text;
        JsonFault fault;
        std::size_t offset;
    };
    const std::vector<Case> cases = {
        {R"({"a":1)", JsonFault::unexpected_end, 6},
        {R"({"a" 1})", JsonFault::unexpected_char, 5},
        {R"({a:1})", JsonFault::unexpected_char, 1},
        {R"({"a":1,})", JsonFault::unexpected_char, 7},
        {R"([1,])", JsonFault::unexpected_char, 3},
        {R"({"a":tru})", JsonFault::bad_literal, 5},
        {R"({"a":nul})", JsonFault::bad_literal, 5},
        {R"({"a":01})", JsonFault::unexpected_char, 6},
        {R"({"a":1.})", JsonFault::bad_number, 7},
        {R"({"a":-})", JsonFault::bad_number, 6},
        {R"({"a":1e})", JsonFault::bad_number, 7},
        {R"({"a":+1})", JsonFault::unexpected_char, 5},
        {R"({"a":"\x"})", JsonFault::bad_escape, 7},
        {R"({"a":"\u12G4"})", JsonFault::bad_escape, 10},
        {std::string("{\"a\":\"x\ty\"}"), JsonFault::control_char, 7},
        {std::string("{\"a\":\"\xff\"}"), JsonFault::bad_utf8, 6},
        {std::string("{\"a\":\"\xc0\xaf\"}"), JsonFault::bad_utf8, 6},      // overlong
        {std::string("{\"a\":\"\xed\xa0\x80\"}"), JsonFault::bad_utf8, 6},  // surrogate
        {std::string("{\"a\":\"\xe2\x82\"}"), JsonFault::bad_utf8, 6},      // truncated
        {R"({"a":"open)", JsonFault::unexpected_end, 10},
        {R"({"a":1}})", JsonFault::none, 0},  // a complete value; the caller sees the rest
        {R"(})", JsonFault::unexpected_char, 0},
        {R"({"a":1])", JsonFault::unexpected_char, 6},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const auto r = scan(c.text);
        CHECK(r.fault == c.fault);
        if (c.fault != JsonFault::none) CHECK(r.fault_offset == c.offset);
    }
}

TEST_CASE("nesting is bounded") {
    const std::string ok = std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']');
    CHECK(valid_whole(ok));
    const std::string deep = std::string(kMaxDepth + 1, '[') + std::string(kMaxDepth + 1, ']');
    CHECK(scan(deep).fault == JsonFault::too_deep);
}

TEST_CASE("every fault has a description") {
    for (int f = 0; f <= static_cast<int>(JsonFault::too_deep); ++f) {
        CHECK(std::string(describe(static_cast<JsonFault>(f))).size() > 3);
    }
}

TEST_CASE("a byte that needs a look is found wherever it sits in a long string") {
    // Strings longer than 16 bytes are skimmed 16 bytes at a time: put each kind
    // of special byte at every position of the first chunks.
    for (std::size_t at = 0; at < 40; ++at) {
        const std::string before(at, 'a');
        const std::string after(40 - at, 'b');
        CAPTURE(at);
        const std::string control = "\"" + before + '\x01' + after + "\"";
        auto r = scan(control);
        CHECK(r.fault == JsonFault::control_char);
        CHECK(r.fault_offset == at + 1);

        const std::string bad_utf8 = "\"" + before + "\xC3\x28" + after + "\"";
        r = scan(bad_utf8);
        CHECK(r.fault == JsonFault::bad_utf8);
        CHECK(r.fault_offset == at + 1);

        const std::string good_utf8 = "\"" + before + "\xC3\xA9" + after + "\"";
        CHECK(scan(good_utf8).ok());
        const std::string escaped = "\"" + before + "\\\"" + after + "\"";
        CHECK(scan(escaped).ok());
        CHECK(scan(escaped).end == escaped.size());
        const std::string bad_escape = "\"" + before + "\\x" + after + "\"";
        CHECK(scan(bad_escape).fault == JsonFault::bad_escape);
        const std::string early_end = "\"" + before + "\"" + after;
        CHECK(scan(early_end).end == at + 2);
        const std::string del = "\"" + before + '\x7f' + after + "\"";  // DEL is allowed
        CHECK(scan(del).ok());
    }
    CHECK(scan("\"" + std::string(100, 'x')).fault == JsonFault::unexpected_end);
}
