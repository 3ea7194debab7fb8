// Content decoding: gzip, deflate and zstd bodies, never past the limit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/ContentDecoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    using chgate::ingest::ContentEncoding;
    static const ContentEncoding kEncodings[] = {ContentEncoding::gzip, ContentEncoding::deflate,
                                                 ContentEncoding::zstd};
    const auto encoding = kEncodings[data[0] % 3];
    constexpr std::size_t kLimit = 1 << 20;
    std::string out;
    const auto result = chgate::ingest::decompress(
        encoding, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), kLimit,
        out);
    if (result == chgate::ingest::InflateResult::ok && out.size() > kLimit) std::abort();
    // The header parser too, on the same bytes.
    chgate::ingest::parse_content_encoding(
        std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
