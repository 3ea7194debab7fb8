#include "clickhouse/Compressor.hpp"

#include <libdeflate.h>
#include <zstd.h>

#include <stdexcept>

namespace chgate::clickhouse {

Compressor::Compressor() : gzip_(libdeflate_alloc_compressor(1)), zstd_(ZSTD_createCCtx()) {
    if (gzip_ == nullptr || zstd_ == nullptr) {
        throw std::runtime_error("cannot allocate a compressor: out of memory");
    }
}

Compressor::~Compressor() {
    libdeflate_free_compressor(gzip_);
    ZSTD_freeCCtx(zstd_);
}

const char* Compressor::compress(config::Compression method, std::string_view in,
                                 std::string& out) {
    switch (method) {
        case config::Compression::none:
            return nullptr;
        case config::Compression::gzip: {
            out.resize(libdeflate_gzip_compress_bound(gzip_, in.size()));
            const auto n =
                libdeflate_gzip_compress(gzip_, in.data(), in.size(), out.data(), out.size());
            // The bound guarantees room; 0 would mean a library bug.
            if (n == 0) throw std::runtime_error("libdeflate_gzip_compress failed");
            out.resize(n);
            return "gzip";
        }
        case config::Compression::zstd: {
            out.resize(ZSTD_compressBound(in.size()));
            const auto n =
                ZSTD_compressCCtx(zstd_, out.data(), out.size(), in.data(), in.size(), 1);
            if (ZSTD_isError(n)) {
                throw std::runtime_error(std::string("zstd compression failed: ") +
                                         ZSTD_getErrorName(n));
            }
            out.resize(n);
            return "zstd";
        }
    }
    return nullptr;
}

}  // namespace chgate::clickhouse
