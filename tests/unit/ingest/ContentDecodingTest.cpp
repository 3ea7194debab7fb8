#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>

#include "clickhouse/Compressor.hpp"
#include "ingest/ContentDecoding.hpp"

using namespace chgate;
using namespace chgate::ingest;

namespace {

std::string zlib_compress(std::string_view in, int window_bits) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&zs, in.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

std::string zstd_compress(std::string_view in) {
    std::string out(ZSTD_compressBound(in.size()), '\0');
    out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
    return out;
}

const std::string kBody = R"({"event_id":"e1","n":1})"
                          "\n"
                          R"({"event_id":"e2","n":2})";

}  // namespace

TEST_CASE("Content-Encoding names") {
    CHECK(parse_content_encoding("") == ContentEncoding::identity);
    CHECK(parse_content_encoding("identity") == ContentEncoding::identity);
    CHECK(parse_content_encoding("gzip") == ContentEncoding::gzip);
    CHECK(parse_content_encoding(" GZIP ") == ContentEncoding::gzip);
    CHECK(parse_content_encoding("x-gzip") == ContentEncoding::gzip);
    CHECK(parse_content_encoding("deflate") == ContentEncoding::deflate);
    CHECK(parse_content_encoding("zstd") == ContentEncoding::zstd);
    CHECK(parse_content_encoding("br") == ContentEncoding::unsupported);
    CHECK(parse_content_encoding("gzip, zstd") == ContentEncoding::unsupported);
}

TEST_CASE("gzip deflate (zlib and raw) and zstd bodies decode") {
    std::string out;
    CHECK(decompress(ContentEncoding::gzip, zlib_compress(kBody, 15 + 16), 1 << 20, out) ==
          InflateResult::ok);
    CHECK(out == kBody);
    CHECK(decompress(ContentEncoding::deflate, zlib_compress(kBody, 15), 1 << 20, out) ==
          InflateResult::ok);
    CHECK(out == kBody);
    CHECK(decompress(ContentEncoding::deflate, zlib_compress(kBody, -15), 1 << 20, out) ==
          InflateResult::ok);
    CHECK(out == kBody);
    CHECK(decompress(ContentEncoding::zstd, zstd_compress(kBody), 1 << 20, out) ==
          InflateResult::ok);
    CHECK(out == kBody);
}

TEST_CASE("what chgate's own compressor writes it can read") {
    chgate::clickhouse::Compressor c;
    std::string packed, out;
    REQUIRE(c.compress(chgate::config::Compression::gzip, kBody, packed) == std::string("gzip"));
    CHECK(decompress(ContentEncoding::gzip, packed, 1 << 20, out) == InflateResult::ok);
    CHECK(out == kBody);
    REQUIRE(c.compress(chgate::config::Compression::zstd, kBody, packed) == std::string("zstd"));
    CHECK(decompress(ContentEncoding::zstd, packed, 1 << 20, out) == InflateResult::ok);
    CHECK(out == kBody);
    CHECK(c.compress(chgate::config::Compression::none, kBody, packed) == nullptr);
}

TEST_CASE("concatenated gzip members decode as one body") {
    const auto two = zlib_compress("{\"a\":1}\n", 31) + zlib_compress("{\"a\":2}\n", 31);
    std::string out;
    CHECK(decompress(ContentEncoding::gzip, two, 1 << 20, out) == InflateResult::ok);
    CHECK(out == "{\"a\":1}\n{\"a\":2}\n");
}

TEST_CASE("a decompression bomb stops at the limit") {
    const std::string big(10 << 20, 'x');
    std::string out;
    CHECK(decompress(ContentEncoding::gzip, zlib_compress(big, 31), 1 << 20, out) ==
          InflateResult::too_large);
    CHECK(out.size() <= (1u << 20) + 1);
    CHECK(decompress(ContentEncoding::zstd, zstd_compress(big), 1 << 20, out) ==
          InflateResult::too_large);
    CHECK(out.size() <= (1u << 20) + 1);
    CHECK(decompress(ContentEncoding::identity, big, 1 << 20, out) == InflateResult::too_large);
    // Exactly at the limit is fine.
    CHECK(decompress(ContentEncoding::gzip, zlib_compress(big, 31), big.size(), out) ==
          InflateResult::ok);
}

TEST_CASE("corrupt or truncated bodies are refused") {
    std::string out;
    CHECK(decompress(ContentEncoding::gzip, "not gzip at all", 1 << 20, out) ==
          InflateResult::corrupt);
    const auto gz = zlib_compress(kBody, 31);
    CHECK(decompress(ContentEncoding::gzip, gz.substr(0, gz.size() / 2), 1 << 20, out) ==
          InflateResult::corrupt);
    CHECK(decompress(ContentEncoding::zstd, "\x28\xb5\x2f\xfd garbage", 1 << 20, out) ==
          InflateResult::corrupt);
    const auto zs = zstd_compress(kBody);
    CHECK(decompress(ContentEncoding::zstd, zs.substr(0, zs.size() - 3), 1 << 20, out) ==
          InflateResult::corrupt);
}
