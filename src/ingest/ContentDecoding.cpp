#include "ingest/ContentDecoding.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

#include "util/Strings.hpp"

namespace chgate::ingest {
namespace {
// Grows `out` in steps, never past limit + 1 bytes, so overflow is detectable.
std::size_t next_chunk(std::size_t have, std::size_t limit) {
    const std::size_t want = std::max<std::size_t>(have, 64 * 1024);
    return std::min(want, limit + 1 - have);
}

InflateResult inflate_zlib(std::string_view in, std::size_t limit, std::string& out, int window) {
    z_stream zs{};
    if (inflateInit2(&zs, window) != Z_OK) return InflateResult::corrupt;
    std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&zs, &inflateEnd);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    for (;;) {
        if (out.size() > limit) return InflateResult::too_large;
        const auto have = out.size();
        const auto chunk = next_chunk(have, limit);
        out.resize(have + chunk);
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + have);
        zs.avail_out = static_cast<uInt>(chunk);
        const int rc = inflate(&zs, Z_NO_FLUSH);
        out.resize(have + chunk - zs.avail_out);
        if (rc == Z_STREAM_END) {
            // Concatenated gzip members are legal; carry on with the next one.
            if (zs.avail_in > 0 && window > 15) {
                if (inflateReset(&zs) != Z_OK) return InflateResult::corrupt;
                continue;
            }
            return out.size() > limit ? InflateResult::too_large : InflateResult::ok;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) return InflateResult::corrupt;  // truncated
        if (rc != Z_OK && rc != Z_BUF_ERROR) return InflateResult::corrupt;
    }
}

InflateResult inflate_zstd(std::string_view in, std::size_t limit, std::string& out) {
    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
    if (!ctx) return InflateResult::corrupt;
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    std::size_t last = 1;
    while (input.pos < input.size || last != 0) {
        if (out.size() > limit) return InflateResult::too_large;
        const auto have = out.size();
        const auto chunk = next_chunk(have, limit);
        out.resize(have + chunk);
        ZSTD_outBuffer output{out.data() + have, chunk, 0};
        last = ZSTD_decompressStream(ctx.get(), &output, &input);
        out.resize(have + output.pos);
        if (ZSTD_isError(last)) return InflateResult::corrupt;
        // No input left, frame unfinished, and no progress: the body was cut short.
        if (input.pos == input.size && last != 0 && output.pos == 0) return InflateResult::corrupt;
    }
    return out.size() > limit ? InflateResult::too_large : InflateResult::ok;
}

}  // namespace

ContentEncoding parse_content_encoding(std::string_view header) {
    header = trim(header);
    if (header.empty() || iequals(header, "identity")) return ContentEncoding::identity;
    if (iequals(header, "gzip") || iequals(header, "x-gzip")) return ContentEncoding::gzip;
    if (iequals(header, "deflate")) return ContentEncoding::deflate;
    if (iequals(header, "zstd")) return ContentEncoding::zstd;
    return ContentEncoding::unsupported;
}

InflateResult decompress(ContentEncoding encoding, std::string_view in, std::size_t limit,
                         std::string& out) {
    out.clear();
    switch (encoding) {
        case ContentEncoding::identity:
            if (in.size() > limit) return InflateResult::too_large;
            out.assign(in);
            return InflateResult::ok;
        // 15 + 16: gzip framing only; 15 + 32 would also take zlib framing.
        case ContentEncoding::gzip:
            return inflate_zlib(in, limit, out, 15 + 16);
        // HTTP's "deflate" is zlib-framed (RFC 9110), though some clients send raw deflate.
        case ContentEncoding::deflate: {
            const bool zlib_header =
                in.size() >= 2 && (static_cast<unsigned char>(in[0]) & 0x0F) == 8 &&
                ((static_cast<unsigned char>(in[0]) << 8) | static_cast<unsigned char>(in[1])) %
                        31 ==
                    0;
            return inflate_zlib(in, limit, out, zlib_header ? 15 : -15);
        }
        case ContentEncoding::zstd:
            return inflate_zstd(in, limit, out);
        case ContentEncoding::unsupported:
            return InflateResult::corrupt;
    }
    return InflateResult::corrupt;
}

}  // namespace chgate::ingest
