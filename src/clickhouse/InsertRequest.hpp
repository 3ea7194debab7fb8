#pragma once

#include <string>
#include <string_view>

#include "clickhouse/ServerInfo.hpp"

namespace chgate::clickhouse {

/// Percent-encodes everything but RFC 3986's unreserved characters.
std::string url_encode(std::string_view s);

/// {base}/?query=…&{settings}&wait_end_of_query=1… for one INSERT. Pure: the
/// server's capabilities decide which optional parameters go in.
std::string build_insert_url(const std::string& base_url, const std::string& insert_query,
                             const ServerInfo& server);

}  // namespace chgate::clickhouse
