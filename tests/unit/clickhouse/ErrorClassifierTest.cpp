#include <catch2/catch.hpp>

#include "clickhouse/ErrorClassifier.hpp"

using namespace chgate;
using namespace chgate::clickhouse;

namespace {
HttpResponse answer(long status, std::string body, std::optional<int> header = std::nullopt) {
    HttpResponse r;
    r.transport_ok = true;
    r.status = status;
    r.body = std::move(body);
    r.exception_code = header;
    return r;
}
}  // namespace

TEST_CASE("success is 200 no exception header no exception text") {
    CHECK(classify(answer(200, "")).error_class == ErrorClass::none);
    CHECK(classify(answer(200, "", 27)).error_class == ErrorClass::quarantine);
    // A server that had begun streaming sends 200 and puts the exception in the body.
    CHECK(classify(answer(200, "Code: 241. DB::Exception: Memory limit exceeded")).error_class ==
          ErrorClass::retry);
}

TEST_CASE("codes are read from 18.16's body text and from newer servers' header") {
    const auto old = classify(
        answer(500,
               "Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected \" before: "
               "abc: (at row 1)\n, e.what() = DB::Exception\n"));
    CHECK(old.error_class == ErrorClass::quarantine);
    CHECK(old.code == 27);
    CHECK(old.message ==
          "Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected \" before: "
          "abc: (at row 1)");
    const auto newer =
        classify(answer(500, "Code: 60. DB::Exception: Table default.x does not exist", 60));
    CHECK(newer.error_class == ErrorClass::hold);
    CHECK(newer.code == 60);
    CHECK(parse_error_code("Code: 252, e.displayText() = Too many parts") == 252);
    CHECK(parse_error_code("no code here") == 0);
    CHECK(parse_error_code("Code: x") == 0);
}

TEST_CASE("the default classes of the codes the issue lists") {
    for (int code : {159, 241, 242, 252, 209, 210}) {
        INFO(code);
        CHECK(class_of_code(code) == ErrorClass::retry);
    }
    for (int code : {26, 27, 41, 53, 72, 117, 130}) {
        INFO(code);
        CHECK(class_of_code(code) == ErrorClass::quarantine);
    }
    for (int code : {60, 81, 192, 193, 194, 516}) {
        INFO(code);
        CHECK(class_of_code(code) == ErrorClass::hold);
    }
    CHECK(class_of_code(99999) == ErrorClass::retry);
}

TEST_CASE("transport failures and bare HTTP errors") {
    HttpResponse refused;
    refused.transport_ok = false;
    refused.transport_error = "Couldn't connect to server";
    CHECK(classify(refused).error_class == ErrorClass::retry);
    CHECK_THAT(classify(refused).message, Catch::Contains("Couldn't connect"));
    refused.timed_out = true;
    CHECK_THAT(classify(refused).message, Catch::StartsWith("timed out"));
    CHECK(classify(answer(502, "Bad Gateway")).error_class == ErrorClass::retry);
    CHECK(classify(answer(503, "")).error_class == ErrorClass::retry);
    CHECK(classify(answer(401, "Unauthorized")).error_class == ErrorClass::hold);
    CHECK_THAT(classify(answer(503, "")).message, Catch::Contains("HTTP 503"));
}

TEST_CASE("clickhouse.error_classes overrides a code's class") {
    const ErrorOverrides overrides = {{252, chgate::config::ErrorAction::hold},
                                      {27, chgate::config::ErrorAction::retry}};
    CHECK(class_of_code(252, &overrides) == ErrorClass::hold);
    CHECK(class_of_code(27, &overrides) == ErrorClass::retry);
    CHECK(class_of_code(60, &overrides) == ErrorClass::hold);  // untouched: the default
    CHECK(classify(answer(500, "Code: 27, e.displayText() = bad"), &overrides).error_class ==
          ErrorClass::retry);
}

TEST_CASE("a column list naming a missing column is the client's fault: reject, not hold") {
    CHECK(class_of_code(16) == ErrorClass::reject);
    CHECK(class_of_code(44) == ErrorClass::reject);
    // What only an operator can fix still holds.
    for (int code : {60, 81, 164, 497, 516})
        CHECK(class_of_code(code) == ErrorClass::hold);
    CHECK(std::string(error_name(16)) == "NO_SUCH_COLUMN_IN_TABLE");
    CHECK(error_name(99999) == nullptr);
}

TEST_CASE("18.16's unknown Enum value (LOGICAL_ERROR) is the row's fault") {
    const auto r = classify(
        answer(500,
               "Code: 49, e.displayText() = DB::Exception: Unknown element 'x' for type "
               "Enum8('a' = 1): (while read the value of key e), e.what() = DB::Exception\n"));
    CHECK(r.error_class == ErrorClass::quarantine);
    CHECK(classify(answer(500, "Code: 49, e.displayText() = DB::Exception: Logical error"))
              .error_class == ErrorClass::retry);
}

TEST_CASE("the field a refused row's error names") {
    using clickhouse::field_of_error;
    CHECK(field_of_error("Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected "
                         "\" before: .5}: (while read the value of key ts): (at row 4)") == "ts");
    CHECK(field_of_error(
              "Code: 117, e.displayText() = DB::Exception: Unknown field found while "
              "parsing JSONEachRow format: colour: (at row 1)\n, e.what() = DB::Exception") ==
          "colour");
    CHECK(field_of_error("Code: 241, Memory limit exceeded") == "");
    CHECK(field_of_error("while read the value of key " + std::string(1000, 'k')).size() == 256);
}
