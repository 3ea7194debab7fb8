#include "clickhouse/ErrorClassifier.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace chgate::clickhouse {
namespace {

struct KnownCode {
    int code;
    const char* name;  // ClickHouse's own name for it
    ErrorClass error_class;
};

// One list of the codes chgate knows: their names (shown to clients instead of
// a message that may quote other requests' rows) and their default classes.
// Any code not here is `retry`: worth another try after a pause.
constexpr std::array kKnownCodes = {
    // The rows are bad: the same rows fail the same way every time.
    KnownCode{6, "CANNOT_PARSE_TEXT", ErrorClass::quarantine},
    KnownCode{25, "CANNOT_PARSE_ESCAPE_SEQUENCE", ErrorClass::quarantine},
    KnownCode{26, "CANNOT_PARSE_QUOTED_STRING", ErrorClass::quarantine},
    KnownCode{27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED", ErrorClass::quarantine},
    KnownCode{32, "ATTEMPT_TO_READ_AFTER_EOF", ErrorClass::quarantine},
    KnownCode{33, "CANNOT_READ_ALL_DATA", ErrorClass::quarantine},
    KnownCode{36, "BAD_ARGUMENTS", ErrorClass::quarantine},  // an unknown Enum value, for one
    KnownCode{38, "CANNOT_PARSE_DATE", ErrorClass::quarantine},
    KnownCode{41, "CANNOT_PARSE_DATETIME", ErrorClass::quarantine},
    KnownCode{53, "TYPE_MISMATCH", ErrorClass::quarantine},
    KnownCode{69, "ARGUMENT_OUT_OF_BOUND", ErrorClass::quarantine},
    KnownCode{70, "CANNOT_CONVERT_TYPE", ErrorClass::quarantine},
    KnownCode{72, "CANNOT_PARSE_NUMBER", ErrorClass::quarantine},
    KnownCode{117, "INCORRECT_DATA", ErrorClass::quarantine},  // an unknown field, among others
    KnownCode{130, "CANNOT_READ_ARRAY_FROM_TEXT", ErrorClass::quarantine},
    KnownCode{131, "TOO_LARGE_STRING_SIZE", ErrorClass::quarantine},
    KnownCode{190, "SIZES_OF_ARRAYS_DOESNT_MATCH", ErrorClass::quarantine},
    KnownCode{321, "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE", ErrorClass::quarantine},
    KnownCode{349, "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN", ErrorClass::quarantine},
    KnownCode{376, "CANNOT_PARSE_UUID", ErrorClass::quarantine},
    KnownCode{407, "DECIMAL_OVERFLOW", ErrorClass::quarantine},
    // What the client asked for cannot work for any row: its column list names
    // a column the table lacks, or one that cannot be inserted into.
    KnownCode{16, "NO_SUCH_COLUMN_IN_TABLE", ErrorClass::reject},
    KnownCode{44, "ILLEGAL_COLUMN", ErrorClass::reject},
    // The target is wrong or closed, and only an operator can fix it; the data
    // is fine.
    KnownCode{60, "UNKNOWN_TABLE", ErrorClass::hold},
    KnownCode{81, "UNKNOWN_DATABASE", ErrorClass::hold},
    KnownCode{164, "READONLY", ErrorClass::hold},
    KnownCode{192, "UNKNOWN_USER", ErrorClass::hold},
    KnownCode{193, "WRONG_PASSWORD", ErrorClass::hold},
    KnownCode{194, "REQUIRED_PASSWORD", ErrorClass::hold},
    KnownCode{195, "IP_ADDRESS_NOT_ALLOWED", ErrorClass::hold},
    KnownCode{497, "ACCESS_DENIED", ErrorClass::hold},
    KnownCode{516, "AUTHENTICATION_FAILED", ErrorClass::hold},
    // Transient, named for the messages.
    KnownCode{49, "LOGICAL_ERROR", ErrorClass::retry},
    KnownCode{159, "TIMEOUT_EXCEEDED", ErrorClass::retry},
    KnownCode{209, "SOCKET_TIMEOUT", ErrorClass::retry},
    KnownCode{210, "NETWORK_ERROR", ErrorClass::retry},
    KnownCode{241, "MEMORY_LIMIT_EXCEEDED", ErrorClass::retry},
    KnownCode{242, "TABLE_IS_READ_ONLY", ErrorClass::retry},
    KnownCode{252, "TOO_MANY_PARTS", ErrorClass::retry},
};

const KnownCode* find_code(int code) {
    const auto it = std::find_if(kKnownCodes.begin(), kKnownCodes.end(),
                                 [code](const KnownCode& k) { return k.code == code; });
    return it == kKnownCodes.end() ? nullptr : &*it;
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

// 18.16 reports an Enum value it does not know as LOGICAL_ERROR (49), where
// newer servers say BAD_ARGUMENTS (36): it is the row's fault all the same.
bool is_unknown_enum_value(int code, std::string_view body) {
    return code == 49 && body.find("Unknown element '") != std::string_view::npos &&
           body.find("for type Enum") != std::string_view::npos;
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
        case ErrorClass::reject:
            return "reject";
        case ErrorClass::hold:
            return "hold";
    }
    return "?";
}

const char* error_name(int code) {
    const auto* k = find_code(code);
    return k == nullptr ? nullptr : k->name;
}

std::string field_of_error(std::string_view message) {
    constexpr std::string_view kValueOf = "while read the value of key ";
    constexpr std::string_view kUnknown = "Unknown field found while parsing JSONEachRow format: ";
    std::string_view field;
    if (const auto at = message.find(kValueOf); at != std::string_view::npos) {
        field = message.substr(at + kValueOf.size());
        field = field.substr(0, field.find(')'));
    } else if (const auto at2 = message.find(kUnknown); at2 != std::string_view::npos) {
        field = message.substr(at2 + kUnknown.size());
        field = field.substr(0, field.find_first_of(" :,\n"));
    }
    return std::string(field.substr(0, 256));
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
                case config::ErrorAction::reject:
                    return ErrorClass::reject;
                case config::ErrorAction::hold:
                    return ErrorClass::hold;
            }
        }
    }
    const auto* k = find_code(code);
    return k == nullptr ? ErrorClass::retry : k->error_class;
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
    if (code != 0) {
        auto c = class_of_code(code, overrides);
        if (c == ErrorClass::retry && is_unknown_enum_value(code, r.body) &&
            !(overrides != nullptr && overrides->contains(code))) {
            c = ErrorClass::quarantine;
        }
        return {c, code, text};
    }
    std::string message = "HTTP " + std::to_string(r.status);
    message += text.empty() ? " with no body" : ": " + text;
    if (r.status == 401 || r.status == 403) return {ErrorClass::hold, 0, message};
    return {ErrorClass::retry, 0, message};
}

}  // namespace chgate::clickhouse
