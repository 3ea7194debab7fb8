#include <catch2/catch.hpp>

#include "ingest/RowCheck.hpp"

using namespace chgate;
using namespace chgate::ingest;
using K = ColumnType::Kind;

namespace {

// Whether `value` (JSON) is taken for a column of `type` (as system.columns spells it).
bool takes(const char* type, std::string_view value, CheckOptions options = {}) {
    std::string scratch;
    return check_value(parse_column_type(type), value, options, scratch) == nullptr;
}

// What schema: coerce makes of `value` for a column of `type`: the rewritten
// text, "" when it cannot be rewritten.
std::string coerced(const char* type, std::string_view value, CheckOptions options = {}) {
    std::string scratch, out = "kept";
    const auto t = parse_column_type(type);
    REQUIRE(check_value(t, value, options, scratch) != nullptr);  // only refused values are
    if (!coerce_value(t, value, options, scratch, out)) {
        CHECK(out == "kept");  // untouched when it fails
        return "";
    }
    REQUIRE(out.rfind("kept", 0) == 0);
    out.erase(0, 4);
    CHECK(out.size() <= value.size());
    CHECK(check_value(t, out, options, scratch) == nullptr);
    return out;
}

}  // namespace

TEST_CASE("column types are read as system.columns spells them") {
    CHECK(parse_column_type("UInt8").kind == K::unsigned_int);
    CHECK(parse_column_type("Int64").bits == 64);
    const auto d = parse_column_type("Decimal(9, 2)");
    CHECK(d.kind == K::decimal);
    CHECK(d.precision == 9);
    CHECK(d.scale == 2);
    CHECK(parse_column_type("Decimal64(4)").precision == 18);
    CHECK(parse_column_type("FixedString(16)").size == 16);
    CHECK(parse_column_type("DateTime('Europe/Moscow')").kind == K::date_time);
    const auto e = parse_column_type("Enum8('a' = 1, 'it\\'s' = -2)");
    CHECK(e.names == std::vector<std::string>{"a", "it's"});
    const auto n = parse_column_type("Array(Nullable(String))");
    CHECK(to_string(n) == "Array(Nullable(String))");
    CHECK(parse_column_type("LowCardinality(String)").kind == K::string);
    CHECK(parse_column_type("Tuple(Int32, String)").args.size() == 2);
    CHECK(parse_column_type("Map(String, UInt64)").kind == K::map);
    // What chgate does not know is unknown, never an error.
    CHECK(parse_column_type("AggregateFunction(uniq, UInt64)").kind == K::unknown);
    CHECK(parse_column_type("IPv4").kind == K::unknown);
    CHECK(parse_column_type("Int128").kind == K::unknown);
    CHECK(parse_column_type("Array(").kind == K::unknown);
    CHECK(parse_column_type("UInt8)").kind == K::unknown);
    CHECK(parse_column_type(std::string(100, '(')).kind == K::unknown);
    std::string deep;
    for (int i = 0; i < 100; ++i)
        deep += "Array(";
    deep += "UInt8" + std::string(100, ')');
    CHECK(parse_column_type(deep).kind == K::unknown);  // nesting is bounded
    CHECK_FALSE(parse_column_type("Array(IPv6)").fully_known());
}

// Each case below was sent to ClickHouse 18.16 as JSONEachRow (2026-12-03):
// what it refuses, chgate refuses; what it takes, chgate takes, except where it
// would store something else than was sent (noted).
TEST_CASE("integers: numbers, quoted numbers, booleans and null; within range") {
    CHECK(takes("Int8", "127"));
    CHECK(takes("Int8", "-128"));
    CHECK_FALSE(takes("Int8", "128"));   // 18.16 wraps it
    CHECK_FALSE(takes("Int8", "-129"));  // 18.16 wraps it
    CHECK(takes("Int8", "\"5\""));
    CHECK_FALSE(takes("Int8", "\" 5\""));
    CHECK_FALSE(takes("Int8", "\"abc\""));
    CHECK_FALSE(takes("Int8", "1.5"));
    CHECK_FALSE(takes("Int8", "1e2"));
    CHECK(takes("Int8", "true"));
    CHECK(takes("Int8", "null"));
    CHECK_FALSE(takes("Int8", "[1]"));
    CHECK_FALSE(takes("UInt8", "-1"));
    CHECK_FALSE(takes("UInt8", "-0"));  // 18.16: no '-' in an unsigned column
    CHECK(takes("UInt8", "false"));
    CHECK_FALSE(takes("Int64", "true"));  // 18.16 reads booleans into 8 bits only
    CHECK_FALSE(takes("UInt8", "256"));   // 18.16 wraps it
    CHECK(takes("UInt64", "18446744073709551615"));
    CHECK_FALSE(takes("UInt64", "18446744073709551616"));
    CHECK_FALSE(takes("UInt64", "-1"));
    CHECK(takes("Int64", "-9223372036854775808"));
    CHECK_FALSE(takes("Int64", "9223372036854775808"));
}

TEST_CASE("floats: numbers, quoted numbers, nan and inf, null") {
    CHECK(takes("Float64", "1.5"));
    CHECK(takes("Float64", "\"1.5\""));
    CHECK(takes("Float64", "\"nan\""));
    CHECK(takes("Float64", "\"inf\""));
    CHECK(takes("Float64", "null"));
    CHECK_FALSE(takes("Float64", "true"));
    CHECK_FALSE(takes("Float64", "\"x\""));
    CHECK_FALSE(takes("Float64", "1e400"));  // 18.16 stores inf
    CHECK_FALSE(takes("Float32", "1e39"));   // 18.16 stores inf
    CHECK(takes("Float32", "3.4e38"));
}

TEST_CASE("Decimal: JSON numbers within precision and scale") {
    CHECK(takes("Decimal(9, 2)", "-1.5"));
    CHECK(takes("Decimal(9, 2)", "1e2"));
    CHECK(takes("Decimal(9, 2)", "1.5e1"));
    CHECK(takes("Decimal(9, 2)", "1234567.89"));
    CHECK(takes("Decimal(9, 2)", "0.001e1"));
    CHECK(takes("Decimal(9, 2)", "0"));
    CHECK(takes("Decimal(9, 2)", "1.50"));
    CHECK_FALSE(takes("Decimal(9, 2)", "1.234"));       // 18.16: "too small"
    CHECK_FALSE(takes("Decimal(9, 2)", "12345678.9"));  // 18.16: "too big"
    CHECK_FALSE(takes("Decimal(9, 2)", "1e8"));
    CHECK_FALSE(takes("Decimal(9, 2)", "\"1.23\""));
    CHECK_FALSE(takes("Decimal(9, 2)", "null"));
    CHECK_FALSE(takes("Decimal(9, 2)", "true"));
}

TEST_CASE("strings: String takes only strings; FixedString up to its size in bytes") {
    CHECK(takes("String", "\"x\""));
    CHECK_FALSE(takes("String", "5"));
    CHECK_FALSE(takes("String", "true"));
    CHECK_FALSE(takes("String", "null"));
    CHECK_FALSE(takes("String", "{\"a\":1}"));
    CHECK_FALSE(takes("String", "[1]"));
    CHECK(takes("FixedString(3)", "\"ab\""));
    CHECK(takes("FixedString(3)", "\"\\u00e9a\""));  // 2 bytes + 1
    CHECK_FALSE(takes("FixedString(3)", "\"abcd\""));
    CHECK_FALSE(takes("FixedString(3)", "\"\\u00e9\\u00e9\""));  // 4 bytes
    CHECK_FALSE(takes("FixedString(3)", "5"));
}

TEST_CASE("Date and DateTime: the forms the server reads, on the calendar") {
    CHECK(takes("Date", "\"2026-12-03\""));
    CHECK(takes("Date", "\"2026-1-3\""));
    CHECK(takes("Date", "\"2026/12/03\""));
    CHECK(takes("Date", "\"2024-02-29\""));
    CHECK_FALSE(takes("Date", "\"2026-02-29\""));
    CHECK_FALSE(takes("Date", "\"2026-13-45\""));  // 18.16 stores some other day
    CHECK_FALSE(takes("Date", "\"1969-01-01\""));  // before the column's first day
    CHECK_FALSE(takes("Date", "\"20261203\""));
    CHECK_FALSE(takes("Date", "17000"));
    CHECK_FALSE(takes("Date", "\"17000\""));
    CHECK_FALSE(takes("Date", "\"2026-12-03T10:00:00\""));
    CHECK_FALSE(takes("Date", "null"));
    CHECK(takes("DateTime", "\"2026-12-03 10:00:00\""));
    CHECK(takes("DateTime", "\"2026-12-03T10:00:00\""));
    CHECK(takes("DateTime", "1700000000"));
    CHECK(takes("DateTime", "\"1700000000\""));
    CHECK(takes("DateTime", "\"12345\""));
    CHECK_FALSE(takes("DateTime", "\"1234\""));  // 18.16: too short for a unix time
    CHECK_FALSE(takes("DateTime", "\"12345678901\""));
    CHECK_FALSE(takes("DateTime", "\"2026-12-03T10:00:00Z\""));
    CHECK_FALSE(takes("DateTime", "\"2026-12-03\""));
    CHECK_FALSE(takes("DateTime", "\"2026-12-03 10:00\""));
    CHECK_FALSE(takes("DateTime", "\"2026-12-03 24:00:00\""));
    CHECK_FALSE(takes("DateTime", "null"));
    CHECK_FALSE(takes("DateTime", "\"garbage\""));
    CHECK_FALSE(takes("DateTime", "1.5"));
    CHECK_FALSE(takes("DateTime", "4294967296"));
    const CheckOptions best{.date_time_best_effort = true};
    CHECK(takes("DateTime", "\"2026-12-03T10:00:00Z\"", best));
    CHECK(takes("DateTime", "\"2026-12-03\"", best));
    CHECK_FALSE(takes("DateTime", "\"garbage\"", best));
    // 18.16 under best_effort refuses digits.digits and reads digits.digits.digits.
    CHECK_FALSE(takes("DateTime", "\"1796317467.5\"", best));
    CHECK_FALSE(takes("DateTime", "\"12345.67\"", best));
    CHECK(takes("DateTime", "\"2026.12.03\"", best));
    // And it misreads a unix time as text in a batch of rows (a time in 2033
    // for "1796317467" after another row); as a number it reads it right.
    CHECK_FALSE(takes("DateTime", "\"1796317467\"", best));
    CHECK(takes("DateTime", "1796317467", best));
}

TEST_CASE("UUID, Enum, Nullable, Array, Tuple, Map, Bool, Nothing") {
    CHECK(takes("UUID", "\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\""));
    CHECK_FALSE(takes("UUID", "\"61f0c4045cb311e7907ba6006ad3dba0\""));
    CHECK_FALSE(takes("UUID", "\"xyz\""));
    CHECK_FALSE(takes("UUID", "null"));
    const char* e = "Enum8('a' = 1, 'b' = 2)";
    CHECK(takes(e, "\"a\""));
    CHECK_FALSE(takes(e, "\"c\""));
    CHECK_FALSE(takes(e, "1"));
    CHECK_FALSE(takes(e, "\"1\""));
    CHECK_FALSE(takes(e, "null"));
    CHECK(takes("Nullable(Int32)", "null"));
    CHECK(takes("Nullable(Int32)", "\"5\""));
    CHECK_FALSE(takes("Nullable(Int32)", "\"x\""));
    CHECK(takes("Array(Int32)", "[1, 2]"));
    CHECK(takes("Array(Int32)", "[]"));
    CHECK(takes("Array(Int32)", "[\"1\"]"));
    CHECK(takes("Array(Int32)", "[null]"));
    CHECK_FALSE(takes("Array(Int32)", "null"));
    CHECK_FALSE(takes("Array(Int32)", "1"));
    CHECK_FALSE(takes("Array(Int32)", "[1.5]"));
    CHECK_FALSE(takes("Array(Int32)", "[1, 2147483648]"));
    CHECK(takes("Array(Nullable(String))", "[null, \"x\"]"));
    CHECK_FALSE(takes("Array(Nullable(String))", "[1]"));
    CHECK(takes("Tuple(Int32, String)", "[1, \"x\"]"));
    CHECK_FALSE(takes("Tuple(Int32, String)", "[1]"));
    CHECK_FALSE(takes("Tuple(Int32, String)", "[1, \"x\", 2]"));
    CHECK_FALSE(takes("Tuple(Int32, String)", "null"));
    CHECK(takes("Map(String, UInt8)", "{\"a\": 1, \"b\": 2}"));
    CHECK_FALSE(takes("Map(String, UInt8)", "{\"a\": 300}"));
    CHECK(takes("Bool", "true"));
    CHECK_FALSE(takes("Bool", "\"yes\""));
    CHECK(takes("Array(Nothing)", "[]"));
    CHECK(takes("IPv4", "\"anything\""));  // not checked
}

TEST_CASE("a row's fields are checked against the table's columns") {
    std::vector<CheckedColumn> columns = {
        {"id", parse_column_type("UInt64"), true},
        {"note", parse_column_type("String"), true},
        {"day", parse_column_type("Date"), false},
        {"ip", parse_column_type("IPv4"), true},
    };
    const RowChecker checker(columns, {});
    CHECK(checker.unchecked_columns() == 1);
    std::string scratch;
    CHECK_FALSE(checker.check(R"({"id": 1, "note": "x"})", scratch));
    CHECK_FALSE(checker.check(R"({})", scratch));
    CHECK_FALSE(checker.check(R"({"ip": [1, 2]})", scratch));  // not checked
    const std::string bad_id = R"({"note": "x", "id": "seven"})";
    auto fault = checker.check(bad_id, scratch);
    REQUIRE(fault);
    CHECK(fault->field == "id");
    CHECK(fault->expected == "UInt64");
    CHECK(fault->reason == "is not an integer");
    CHECK(bad_id.substr(fault->offset, 7) == "\"seven\"");
    fault = checker.check(R"({"id": 1, "extra": 2})", scratch);
    REQUIRE(fault);
    CHECK(fault->field == "extra");
    CHECK_THAT(fault->reason, Catch::Contains("not a column"));
    fault = checker.check(R"({"id": 1, "id": 2})", scratch);
    REQUIRE(fault);
    CHECK(fault->reason == "appears twice in the event");
    fault = checker.check(R"({"day": "2026-12-03"})", scratch);
    REQUIRE(fault);
    CHECK_THAT(fault->reason, Catch::Contains("MATERIALIZED"));
    // Escaped names are decoded: "n\u006fte" is note.
    CHECK_FALSE(checker.check(R"({"n\u006fte": "x"})", scratch));
    const RowChecker lenient(columns, {.ignore_unknown_fields = true});
    CHECK_FALSE(lenient.check(R"({"id": 1, "extra": {"deep": [1]}})", scratch));
}

TEST_CASE("a table wider than 1024 columns is checked too") {
    std::vector<CheckedColumn> columns;
    for (int i = 0; i < 1500; ++i)
        columns.push_back({"c" + std::to_string(i), parse_column_type("UInt8"), true});
    const RowChecker checker(columns, {});
    std::string scratch;
    CHECK_FALSE(checker.check(R"({"c1499": 1, "c0": 2})", scratch));
    CHECK(checker.check(R"({"c1499": 1, "c1499": 2})", scratch));
    CHECK(checker.check(R"({"c1200": 300})", scratch));
}

TEST_CASE("coerce: DateTime from ISO 8601 and unix times, to whole seconds") {
    // With a zone: the unix time (date -u -d 2026-12-03T17:04:27Z +%s).
    CHECK(coerced("DateTime", "\"2026-12-03T17:04:27Z\"") == "1796317467");
    CHECK(coerced("DateTime", "\"2026-12-03T17:04:27.123Z\"") == "1796317467");
    CHECK(coerced("DateTime", "\"2026-12-03T19:04:27+02:00\"") == "1796317467");
    CHECK(coerced("DateTime", "\"2026-12-03T12:04:27-0500\"") == "1796317467");
    CHECK(coerced("DateTime", "\"2026-12-03 19:04:27.5+02\"") == "1796317467");
    CHECK(coerced("DateTime", "\"1970-01-01T00:00:00Z\"") == "0");
    CHECK(coerced("DateTime", "\"2000-02-29T00:00:00Z\"") == "951782400");
    CHECK(coerced("DateTime", "\"2106-02-07T06:28:15Z\"") == "4294967295");
    // Without a zone it stays text in the server's zone, less its fraction.
    CHECK(coerced("DateTime", "\"2026-12-03T17:04:27.123\"") == "\"2026-12-03T17:04:27\"");
    CHECK(coerced("DateTime('UTC')", "\"2026-12-03 17:04:27,5\"") == "\"2026-12-03 17:04:27\"");
    // Unix times: fractions dropped, 12 or 13 digits are milliseconds.
    CHECK(coerced("DateTime", "1796317467.9") == "1796317467");
    CHECK(coerced("DateTime", "1796317467123") == "1796317467");
    CHECK(coerced("DateTime", "\"1796317467123\"") == "1796317467");
    CHECK(coerced("DateTime", "\"1796317467.25\"") == "1796317467");
    CHECK(coerced("Nullable(DateTime)", "\"2026-12-03T17:04:27Z\"") == "1796317467");
    // What cannot be taken without guessing stays refused.
    CHECK(coerced("DateTime", "\"1969-12-31T23:59:59Z\"") == "");  // before 1970
    CHECK(coerced("DateTime", "\"2106-02-07T06:28:16Z\"") == "");  // past 2^32-1
    CHECK(coerced("DateTime", "\"2026-02-30T00:00:00Z\"") == "");  // off the calendar
    CHECK(coerced("DateTime", "\"2026-12-03T17:04Z\"") == "");     // no seconds
    CHECK(coerced("DateTime", "\"2026-12-03T17:04:27 UTC\"") == "");
    CHECK(coerced("DateTime", "\"2026-12-03T17:04:27+24:00\"") == "");
    CHECK(coerced("DateTime", "\"2026-12-03T17:04:27.Z\"") == "");
    CHECK(coerced("DateTime", "\"next tuesday\"") == "");
    CHECK(coerced("DateTime", "99999999999999") == "");  // 14 digits
    CHECK(coerced("DateTime", "1.5e9") == "");
    CHECK(coerced("DateTime", "-1") == "");
    CHECK(coerced("DateTime", "true") == "");
    // Under best_effort the server reads text itself; numbers are rewritten.
    CHECK(coerced("DateTime", "\"\"", {.date_time_best_effort = true}) == "");
    CHECK(coerced("DateTime", "1796317467.5", {.date_time_best_effort = true}) == "1796317467");
    CHECK(coerced("DateTime", "\"1796317467\"", {.date_time_best_effort = true}) == "1796317467");
}

TEST_CASE("coerce: booleans and whole numbers into integers, text into Decimal and Bool") {
    CHECK(coerced("UInt32", "true") == "1");
    CHECK(coerced("Int64", "false") == "0");
    CHECK(coerced("UInt8", "\"true\"") == "1");
    CHECK(coerced("Int16", "\"false\"") == "0");
    CHECK(coerced("UInt16", "12.0") == "12");
    CHECK(coerced("Int32", "-12.000") == "-12");
    CHECK(coerced("UInt8", "\"007.0\"") == "7");
    CHECK(coerced("UInt8", "-0.0") == "0");
    CHECK(coerced("UInt8", "12.5") == "");   // a fraction is a loss
    CHECK(coerced("UInt8", "256.0") == "");  // out of range
    CHECK(coerced("UInt8", "-1.0") == "");   // negative
    CHECK(coerced("Int32", "1e3") == "");    // exponents are not rewritten
    CHECK(coerced("Int32", "\"12.\"") == "");
    CHECK(coerced("Int32", "\"yes\"") == "");
    CHECK(coerced("Decimal(9, 2)", "\"12.34\"") == "12.34");
    CHECK(coerced("Decimal(9, 2)", "\"-0.5\"") == "-0.5");
    CHECK(coerced("Decimal(9, 2)", "\"12.345\"") == "");  // past the scale
    CHECK(coerced("Decimal(9, 2)", "\"1.\"") == "");
    CHECK(coerced("Decimal(9, 2)", "\" 1\"") == "");
    CHECK(coerced("Decimal(9, 2)", "\"+1\"") == "");
    CHECK(coerced("Bool", "\"true\"") == "true");
    CHECK(coerced("Bool", "\"no\"") == "");
    CHECK(coerced("String", "12") == "");  // nothing else is rewritten
    CHECK(coerced("Float64", "true") == "");
    CHECK(coerced("Date", "\"2026-12-03T00:00:00Z\"") == "");
}

TEST_CASE("coerce: the elements of arrays, tuples and maps") {
    CHECK(coerced("Array(UInt16)", "[1, true, \"2.0\"]") == "[1,1,2]");
    CHECK(coerced("Array(UInt16)", "[true, \"x\"]") == "");
    CHECK(coerced("Array(Array(Int16))", "[[true], []]") == "[[1],[]]");
    CHECK(coerced("Tuple(UInt16, String)", "[true, \"a\"]") == "[1,\"a\"]");
    CHECK(coerced("Tuple(UInt16, String)", "[true]") == "");  // too few
    CHECK(coerced("Tuple(UInt16)", "[true, 1]") == "");       // too many
    CHECK(coerced("Map(String, DateTime)", "{\"a\": \"2026-12-03T17:04:27Z\"}") ==
          "{\"a\":1796317467}");
}

TEST_CASE("coerce: a row is rewritten only where a value needed it") {
    std::vector<CheckedColumn> columns = {
        {"id", parse_column_type("UInt64"), true},
        {"at", parse_column_type("DateTime"), true},
        {"note", parse_column_type("String"), true},
    };
    const RowChecker checker(columns, {});
    std::string scratch, out;
    bool changed = true;
    CHECK_FALSE(checker.coerce(R"({"id": 1, "note": "x"})", scratch, out, changed));
    CHECK_FALSE(changed);
    CHECK(out.empty());
    CHECK_FALSE(checker.coerce(R"({"id": true, "at": "2026-12-03T17:04:27Z", "note": "t"})",
                               scratch, out, changed));
    CHECK(changed);
    CHECK(out == R"({"id": 1, "at": 1796317467, "note": "t"})");
    // A value that cannot be rewritten faults as under check, at its offset.
    const std::string bad = R"({"id": true, "note": 5})";
    const auto fault = checker.coerce(bad, scratch, out, changed);
    REQUIRE(fault);
    CHECK_FALSE(changed);
    CHECK(out.empty());
    CHECK(fault->field == "note");
    CHECK(fault->reason == "is not a string");
    CHECK(bad.substr(fault->offset) == "5}");
}
