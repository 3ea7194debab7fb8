#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ShardBy.hpp"

namespace chgate::ingest {

/// Why a row has no sharding key chgate can compute exactly as ClickHouse.
enum class KeyFault {
    none,
    missing,         ///< the field is not in the row (or is null)
    duplicate,       ///< the field appears twice
    wrong_type,      ///< not a string or integer (cityHash64), not an integer (a plain field)
    negative,        ///< ClickHouse reads a negative key by its column's width, unknown here
    too_large,       ///< an integer past 2^64-1
    lone_surrogate,  ///< a \uD800-\uDFFF escape without its pair: no UTF-8 for it
};

/// For the client's 400: what is wrong with the field.
const char* describe(KeyFault fault);

/// The sharding key of one row for `by`: the value ClickHouse's Distributed
/// engine reduces modulo the total weight (see core::ShardSlots).
struct ShardKey {
    std::uint64_t value = 0;
    KeyFault fault = KeyFault::none;
    bool ok() const { return fault == KeyFault::none; }
};

/// `row` is one JSON object that scan_value accepted. A string hashes as a
/// String column does (its bytes, escapes decoded); an integer as an
/// unsigned integer column does. For rand() the key is 0: the caller picks.
/// `scratch` holds a decoded string between calls, so that rows allocate
/// nothing once it has grown.
ShardKey shard_key(std::string_view row, const core::ShardBy& by, std::string& scratch);

/// Decodes the body of a JSON string (between its quotes) into UTF-8 bytes,
/// as ClickHouse reads it. False for a lone surrogate, and for escapes that
/// are not valid JSON (a trailing backslash, a short \u).
bool decode_json_string(std::string_view body, std::string& out);

/// The text of a JSON string value (with its quotes): a view of `value`
/// when it has no escapes, else of `scratch`, decoded. False for a lone
/// surrogate or a value that is no string.
bool json_string_text(std::string_view value, std::string& scratch, std::string_view& out);

}  // namespace chgate::ingest
