#pragma once

#include <cstddef>
#include <string_view>

namespace chgate::ingest {

/// What was wrong, for the client's 400 message.
enum class JsonFault {
    none,
    unexpected_end,
    unexpected_char,
    bad_literal,
    bad_number,
    bad_escape,
    control_char,
    bad_utf8,
    too_deep,
};

const char* describe(JsonFault fault);

/// The outcome of validating one JSON value.
struct ValueScan {
    JsonFault fault = JsonFault::none;
    std::size_t end = 0;           ///< one past the value (on success)
    std::size_t fault_offset = 0;  ///< where the fault was found (on failure)
    bool has_line_break = false;   ///< a CR or LF appears (necessarily as whitespace)
    bool ok() const { return fault == JsonFault::none; }
};

/// Validates exactly one RFC 8259 value that starts at `pos` (no leading
/// whitespace), including UTF-8 well-formedness. It builds nothing and does not
/// allocate. Nesting deeper than kMaxDepth is refused.
ValueScan scan_value(std::string_view text, std::size_t pos);

inline constexpr std::size_t kMaxDepth = 256;

/// JSON's insignificant whitespace.
inline bool is_json_space(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

}  // namespace chgate::ingest
