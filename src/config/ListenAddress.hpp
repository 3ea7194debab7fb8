#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace chgate::config {

struct ListenAddress {
    std::string host;  ///< an IP address; "[::]" is written back without brackets
    std::uint16_t port = 0;
};

/// Parses "0.0.0.0:8080", "127.0.0.1:0" or "[::1]:8080". Host names are not
/// resolved; chgate binds addresses. On failure sets `error`.
std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string& error);

}  // namespace chgate::config
