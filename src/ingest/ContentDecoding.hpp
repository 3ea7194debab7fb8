#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chgate::ingest {

enum class ContentEncoding { identity, gzip, deflate, zstd, unsupported };

/// Maps a Content-Encoding header value; "" and "identity" mean no encoding.
ContentEncoding parse_content_encoding(std::string_view header);

enum class InflateResult { ok, too_large, corrupt };

/// Decompresses `in` into `out` (cleared first), stopping with too_large as soon
/// as the output would pass `limit` bytes, so a small bomb cannot take memory.
InflateResult decompress(ContentEncoding encoding, std::string_view in, std::size_t limit,
                         std::string& out);

}  // namespace chgate::ingest
