#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "util/Json.hpp"
#include "util/Text.hpp"

using chgate::escape_for_log;
using chgate::json_escape;

TEST_CASE("json_escape makes valid JSON of any bytes") {
    CHECK(json_escape("plain") == "plain");
    CHECK(json_escape("a\"b\\c\n") == "a\\\"b\\\\c\\n");
    CHECK(json_escape(std::string("\x01", 1)) == "\\u0001");
    CHECK(json_escape("caf\xc3\xa9") == "caf\xc3\xa9");  // well-formed UTF-8 stays
    CHECK(json_escape("\xff\xfe") == "\\ufffd\\ufffd");
    CHECK(json_escape("\xc3") == "\\ufffd");  // cut in the middle of a character
    CHECK(json_escape("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");  // a UTF-16 surrogate
    for (const std::string s : {"\xff", "x\xe2\x82", "\xc0\xaf", "\"\\\x7f\x1b[31m"}) {
        INFO(s);
        CHECK_NOTHROW(nlohmann::json::parse("\"" + json_escape(s) + "\""));
    }
}

TEST_CASE("escape_for_log keeps a message on one line and free of terminal escapes") {
    CHECK(escape_for_log("ok: caf\xc3\xa9") == "ok: caf\xc3\xa9");
    CHECK(escape_for_log("two\nlines\r") == "two\\nlines\\r");
    CHECK(escape_for_log("\x1b[2J") == "\\x1b[2J");
    CHECK(escape_for_log("\xff") == "\\xff");
    CHECK(escape_for_log("a\\b") == "a\\\\b");
    const auto cut = escape_for_log(std::string(100, 'x'), 10);
    CHECK(cut.starts_with(std::string(10, 'x')));
    CHECK(cut.find("90 more bytes cut") != std::string::npos);
}

TEST_CASE("dump_json replaces bytes that are not UTF-8 instead of throwing") {
    nlohmann::json j = {{"error", std::string("Cannot parse: '\xd0")}};
    CHECK_THROWS(j.dump());
    std::string text;
    REQUIRE_NOTHROW(text = chgate::dump_json(j));
    CHECK(nlohmann::json::parse(text)["error"] == "Cannot parse: '\xef\xbf\xbd");
}
