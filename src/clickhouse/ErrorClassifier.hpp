#pragma once

#include <string>
#include <string_view>

#include <map>

#include "clickhouse/HttpResponse.hpp"
#include "config/Config.hpp"

namespace chgate::clickhouse {

/// What to do about an INSERT's outcome.
enum class ErrorClass {
    none,        ///< success
    retry,       ///< transient: network, timeouts, overload, 5xx
    quarantine,  ///< some rows are bad: parse and type errors; found by bisection
    reject,      ///< the request's shape is bad for every row (its column list): no bisection
    hold,        ///< the target is wrong: unknown table or database, authentication
};

const char* to_string(ErrorClass c);

struct InsertOutcome {
    ErrorClass error_class = ErrorClass::none;
    int code = 0;         ///< ClickHouse's error code, 0 when there is none
    std::string message;  ///< one line, for logs and clients
};

/// Success means status 200 and no X-ClickHouse-Exception-Code header (and, for
/// old servers that send no header, no "Code: N" text in the body). Otherwise
/// the code, from the header or from the body, selects the class.
/// `overrides` (clickhouse.error_classes) replace the default class of a code.
using ErrorOverrides = std::map<int, config::ErrorAction>;
InsertOutcome classify(const HttpResponse& response, const ErrorOverrides* overrides = nullptr);

/// ClickHouse's name for a code chgate knows ("CANNOT_PARSE_INPUT_ASSERTION_FAILED"),
/// or nullptr.
const char* error_name(int code);

/// The class a ClickHouse error code falls in, by default or as overridden.
ErrorClass class_of_code(int code, const ErrorOverrides* overrides = nullptr);

/// Finds N in "Code: N, e.displayText() = …" (ClickHouse 18.16's error body)
/// or "Code: N. DB::Exception: …" (newer servers). 0 if there is none.
int parse_error_code(std::string_view body);

/// The field a refused row's error names: X in "(while read the value of
/// key X)" or "Unknown field found while parsing JSONEachRow format: X"
/// (18.16 and newer); "" if it names none. At most 256 bytes.
std::string field_of_error(std::string_view message);

}  // namespace chgate::clickhouse
