#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace chgate {

/// A SHA-256 digest: how chgate keeps a token (never the token itself).
using Sha256 = std::array<std::uint8_t, 32>;

/// The SHA-256 of `data` (OpenSSL).
Sha256 sha256(std::string_view data);

/// Parses 64 hex digits; false if `hex` is not that.
bool parse_sha256_hex(std::string_view hex, Sha256& out);
std::string to_hex(const Sha256& digest);

/// Compares two digests in time that does not depend on where they differ.
bool same_digest(const Sha256& a, const Sha256& b);

}  // namespace chgate
