#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chgate::http {

/// Splits a request target into path and query string.
struct Target {
    std::string_view path;
    std::string_view query;  ///< without the '?'
};
Target split_target(std::string_view target);

/// Decodes %XX and '+' (as a space). Returns nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

/// The decoded value of `name` in a query string, if present.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace chgate::http
