#include <catch2/catch.hpp>

#include "ingest/RowBinary.hpp"

using namespace chgate;
using namespace chgate::ingest;
using Catch::Contains;

namespace {

// The bytes of `value` as RowBinary of `type`, as hex; "refused" when the
// encoder does not encode it.
std::string hex_of(std::string_view type, std::string_view value, bool utc = true,
                   bool best_effort = false) {
    std::string out, scratch;
    RowBinaryOptions options;
    options.server_utc = utc;
    options.date_time_best_effort = best_effort;
    if (!encode_value(parse_column_type(type), value, options, scratch, out)) return "refused";
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (const unsigned char c : out) {
        hex += kHex[c >> 4];
        hex += kHex[c & 15];
    }
    return hex;
}

}  // namespace

TEST_CASE("integers are little-endian of their width; booleans, quoted numbers and null too") {
    CHECK(hex_of("UInt8", "200") == "c8");
    CHECK(hex_of("UInt8", "true") == "01");
    CHECK(hex_of("UInt8", "null") == "00");
    CHECK(hex_of("Int16", "-2") == "feff");
    CHECK(hex_of("UInt32", "\"258\"") == "02010000");
    CHECK(hex_of("Int64", "-9223372036854775808") == "0000000000000080");
    CHECK(hex_of("UInt64", "18446744073709551615") == "ffffffffffffffff");
    CHECK(hex_of("UInt8", "256") == "refused");
    CHECK(hex_of("UInt32", "-1") == "refused");
    CHECK(hex_of("Int32", "true") == "refused");  // 18.16 reads booleans into 8 bits only
    CHECK(hex_of("Int32", "1.0") == "refused");
}

TEST_CASE("floats, Decimal as the scaled integer") {
    CHECK(hex_of("Float64", "1.5") == "000000000000f83f");
    CHECK(hex_of("Float32", "\"-2\"") == "000000c0");
    CHECK(hex_of("Float64", "\"inf\"") == "000000000000f07f");
    CHECK(hex_of("Float64", "null") == "000000000000f87f");           // NaN, as 18.16 reads it
    CHECK(hex_of("Decimal(18, 2)", "-12.34") == "2efbffffffffffff");  // as 18.16 writes it
    CHECK(hex_of("Decimal(9, 3)", "1.5") == "dc050000");              // 1500
    CHECK(hex_of("Decimal(38, 0)", "1") == "01000000000000000000000000000000");
    CHECK(hex_of("Decimal(9, 2)", "1.234") == "refused");
    CHECK(hex_of("Decimal(9, 2)", "1.230") == "7b000000");
    CHECK(hex_of("Decimal(9, 2)", "1e2") == "refused");
}

TEST_CASE("strings with their length, FixedString padded, escapes decoded") {
    CHECK(hex_of("String", "\"ab\"") == "026162");
    CHECK(hex_of("String", R"("a\nb")") == "03610a62");
    CHECK(hex_of("String", R"("\u00e9")") == "02c3a9");
    CHECK(hex_of("LowCardinality(String)", "\"a\"") == "0161");
    CHECK(hex_of("FixedString(4)", "\"ab\"") == "61620000");
    CHECK(hex_of("FixedString(1)", "\"ab\"") == "refused");
    CHECK(hex_of("String", "5") == "refused");
    std::string out, scratch;
    const std::string long_text(300, 'x');
    REQUIRE(encode_value(parse_column_type("String"), "\"" + long_text + "\"", {}, scratch, out));
    CHECK(out.substr(0, 2) == "\xac\x02");  // 300 as a varint
}

TEST_CASE("Date and DateTime as days and seconds; text times only on a UTC server") {
    CHECK(hex_of("Date", "\"1970-01-02\"") == "0100");
    CHECK(hex_of("Date", "\"2026-12-03\"") == "3651");   // 20790 days
    CHECK(hex_of("Date", "\"2026-2-3\"") == "refused");  // the server reads it; chgate leaves it
    CHECK(hex_of("Date", "\"2026-02-30\"") == "refused");
    CHECK(hex_of("DateTime", "1796317467") == "1ba1116b");
    CHECK(hex_of("DateTime", "\"1796317467\"") == "1ba1116b");
    // best_effort reads such digits otherwise (18.16 stores 2033-08-27 for these).
    CHECK(hex_of("DateTime", "\"1796317467\"", true, true) == "refused");
    CHECK(hex_of("DateTime", "1796317467", true, true) == "1ba1116b");
    CHECK(hex_of("DateTime", "\"2026-12-03 17:04:27\"") == "1ba1116b");
    CHECK(hex_of("DateTime", "\"2026-12-03 17:04:27\"", false) == "refused");
    CHECK(hex_of("DateTime", "\"2026-12-03T17:04:27Z\"") == "refused");
    CHECK(hex_of("DateTime('UTC')", "1") == "01000000");
}

TEST_CASE("UUID, Enum, Nullable, Array and Tuple") {
    // As 18.16 writes toUUID('01234567-89ab-cdef-0011-223344556677').
    CHECK(hex_of("UUID", "\"01234567-89ab-cdef-0011-223344556677\"") ==
          "efcdab89674523017766554433221100");
    CHECK(hex_of("UUID", "\"0123456789abcdef0011223344556677\"") == "refused");
    CHECK(hex_of("Enum8('b' = 2, 'a' = 1)", "\"b\"") == "02");
    CHECK(hex_of("Enum16('x' = -300)", "\"x\"") == "d4fe");
    CHECK(hex_of("Enum8('a' = 1)", "\"c\"") == "refused");
    std::string out;
    REQUIRE(encode_default(parse_column_type("Enum8('a' = 1, 'b' = -2)"), out));
    CHECK(out == "\xfe");  // the smallest value, as 18.16 fills an absent field
    CHECK(hex_of("Nullable(UInt8)", "null") == "01");
    CHECK(hex_of("Nullable(UInt8)", "7") == "0007");
    CHECK(hex_of("Array(UInt8)", "[1, 2 ,3]") == "03010203");
    CHECK(hex_of("Array(Nullable(String))", "[\"a\", null]") ==
          "020001610"
          "1");
    CHECK(hex_of("Array(UInt8)", "[]") == "00");
    CHECK(hex_of("Tuple(UInt8, String)", "[1, \"a\"]") == "010161");
    CHECK(hex_of("Tuple(UInt8, String)", "[1]") == "refused");
}

TEST_CASE("a table's rows: every column in order, absent fields as their type's default") {
    std::string why;
    const auto e = RowBinaryEncoder::make({{"id", parse_column_type("UInt8"), false},
                                           {"note", parse_column_type("String"), false},
                                           {"n", parse_column_type("Nullable(UInt8)"), false}},
                                          {}, why);
    REQUIRE(e);
    CHECK(e->column_list() == "(`id`, `note`, `n`)");
    std::string out;
    REQUIRE(e->encode("{\"note\": \"a\", \"id\": 1}\n{ \"id\" : 2 , \"n\": 3 }\n", out, why));
    CHECK(out == std::string("\x01\x01"
                             "a\x01"
                             "\x02\x00\x00\x03",
                             8));
    out.clear();
    CHECK_FALSE(e->encode("{\"id\": 1, \"colour\": \"red\"}\n", out, why));
    CHECK_THAT(why, Contains("colour is no column"));
    RowBinaryOptions skip;
    skip.skip_unknown_fields = true;
    const auto skipping =
        RowBinaryEncoder::make({{"id", parse_column_type("UInt8"), false}}, skip, why);
    out.clear();
    REQUIRE(skipping->encode("{\"id\": 1, \"colour\": {\"r\": [1]}}\n", out, why));
    CHECK(out == "\x01");
    // A DEFAULT expression: an event without the field is not encoded.
    const auto with_default = RowBinaryEncoder::make(
        {{"id", parse_column_type("UInt8"), false}, {"day", parse_column_type("Date"), true}}, {},
        why);
    out.clear();
    CHECK(with_default->encode("{\"id\": 1, \"day\": \"1970-01-02\"}\n", out, why));
    CHECK_FALSE(with_default->encode("{\"id\": 1}\n", out, why));
    CHECK_THAT(why, Contains("without field day"));
    // A type chgate does not encode keeps the table on JSONEachRow.
    CHECK_FALSE(
        RowBinaryEncoder::make({{"m", parse_column_type("Map(String, UInt8)"), false}}, {}, why));
    CHECK_THAT(why, Contains("column m is of type Map"));
    CHECK_FALSE(RowBinaryEncoder::make({{"x", parse_column_type("IPv4"), false}}, {}, why));
}
