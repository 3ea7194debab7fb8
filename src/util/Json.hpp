#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace chgate {

/// j.dump(), but never throwing: a string that is not well-formed UTF-8 (a
/// ClickHouse error cut in the middle of a character, say) has its bad bytes
/// replaced by U+FFFD instead of raising nlohmann's type_error 316, which on
/// an io or flusher thread would end the process.
template <typename Json>
std::string dump_json(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace chgate
