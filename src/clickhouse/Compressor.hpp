#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/Config.hpp"

struct libdeflate_compressor;
struct ZSTD_CCtx_s;

namespace chgate::clickhouse {

/// Compresses INSERT bodies at level 1: on this workload the ratio barely moves
/// at higher levels, and CPU goes to ingest instead. One per flusher thread.
class Compressor {
  public:
    Compressor();
    ~Compressor();
    Compressor(const Compressor&) = delete;
    Compressor& operator=(const Compressor&) = delete;

    /// Fills `out` with `in` compressed; for none, `out` is left alone and the
    /// caller sends `in`. Returns the Content-Encoding to send, or nullptr.
    const char* compress(config::Compression method, std::string_view in, std::string& out);

  private:
    libdeflate_compressor* gzip_;
    ZSTD_CCtx_s* zstd_;
};

}  // namespace chgate::clickhouse
