#include "clickhouse/ErrorClassifier.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace chgate::clickhouse {
namespace {

// Bad data: the same rows fail the same way every time.
constexpr std::array kQuarantineCodes = {
    6,    // CANNOT_PARSE_TEXT
    25,   // CANNOT_PARSE_ESCAPE_SEQUENCE
    26,   // CANNOT_PARSE_QUOTED_STRING
    27,   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    32,   // ATTEMPT_TO_READ_AFTER_EOF
    33,   // CANNOT_READ_ALL_DATA
    36,   // BAD_ARGUMENTS (an unknown Enum value, for one)
    38,   // CANNOT_PARSE_DATE
    41,   // CANNOT_PARSE_DATETIME
    53,   // TYPE_MISMATCH
    69,   // ARGUMENT_OUT_OF_BOUND
    70,   // CANNOT_CONVERT_TYPE
    72,   // CANNOT_PARSE_NUMBER
    117,  // INCORRECT_DATA (an unknown field, among others)
    130,  // CANNOT_READ_ARRAY_FROM_TEXT
    131,  // TOO_LARGE_STRING_SIZE
    190,  // SIZES_OF_ARRAYS_DOESNT_MATCH
    321,  // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    349,  // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
    376,  // CANNOT_PARSE_UUID
    407,  // DECIMAL_OVERFLOW
};

// The target is wrong; retrying soon will not help, but the data is fine.
constexpr std::array kHoldCodes = {
    16,   // NO_SUCH_COLUMN_IN_TABLE (a column in the INSERT's list)
    60,   // UNKNOWN_TABLE
    81,   // UNKNOWN_DATABASE
    164,  // READONLY
    192,  // UNKNOWN_USER
    193,  // WRONG_PASSWORD
    194,  // REQUIRED_PASSWORD
    195,  // IP_ADDRESS_NOT_ALLOWED
    497,  // ACCESS_DENIED
    516,  // AUTHENTICATION_FAILED
};

template <std::size_t N>
bool contains(const std::array<int, N>& codes, int code) {
    return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// The first line of an error body, without 18.16's ", e.what() = DB::Exception" tail.
std::string first_line(std::string_view body) {
    while (!body.empty() && (body.front() == ' ' || body.front() == '\n'))
        body.remove_prefix(1);
    auto nl = body.find('\n');
    auto line = body.substr(0, nl);
    if (const auto tail = line.find(", e.what() = "); tail != std::string_view::npos) {
        line = line.substr(0, tail);
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.remove_suffix(1);
    constexpr std::size_t kMax = 1000;
    std::string out(line.substr(0, kMax));
    if (line.size() > kMax) out += "…";
    return out;
}

}  // namespace

const char* to_string(ErrorClass c) {
    switch (c) {
        case ErrorClass::none:
            return "none";
        case ErrorClass::retry:
            return "retry";
        case ErrorClass::quarantine:
            return "quarantine";
        case ErrorClass::hold:
            return "hold";
    }
    return "?";
}

int parse_error_code(std::string_view body) {
    const auto at = body.find("Code: ");
    if (at == std::string_view::npos) return 0;
    const char* begin = body.data() + at + 6;
    int code = 0;
    auto [ptr, ec] = std::from_chars(begin, body.data() + body.size(), code);
    if (ec != std::errc{} || ptr == begin) return 0;
    return code;
}

ErrorClass class_of_code(int code, const ErrorOverrides* overrides) {
    if (overrides != nullptr) {
        if (auto it = overrides->find(code); it != overrides->end()) {
            switch (it->second) {
                case config::ErrorAction::retry:
                    return ErrorClass::retry;
                case config::ErrorAction::quarantine:
                    return ErrorClass::quarantine;
                case config::ErrorAction::hold:
                    return ErrorClass::hold;
            }
        }
    }
    if (contains(kQuarantineCodes, code)) return ErrorClass::quarantine;
    if (contains(kHoldCodes, code)) return ErrorClass::hold;
    // Overload, timeouts, read-only replicas, too many parts, network trouble, and
    // anything unknown: worth another try after a pause.
    return ErrorClass::retry;
}

InsertOutcome classify(const HttpResponse& r, const ErrorOverrides* overrides) {
    if (!r.transport_ok) {
        return {ErrorClass::retry, 0,
                (r.timed_out ? "timed out: " : "no answer from ClickHouse: ") + r.transport_error};
    }
    const int body_code = parse_error_code(r.body);
    // An INSERT answers 200 with an empty body. A header, or an exception text in
    // a 200 body (a server that had begun streaming), is still a failure.
    if (r.status == 200 && !r.exception_code && body_code == 0) return {};
    const int code = r.exception_code.value_or(body_code);
    const std::string text = first_line(r.body);
    if (code != 0) return {class_of_code(code, overrides), code, text};
    std::string message = "HTTP " + std::to_string(r.status);
    message += text.empty() ? " with no body" : ": " + text;
    if (r.status == 401 || r.status == 403) return {ErrorClass::hold, 0, message};
    return {ErrorClass::retry, 0, message};
}

}  // namespace chgate::clickhouse
