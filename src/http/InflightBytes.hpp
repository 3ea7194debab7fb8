#pragma once

#include <cstdint>

#include "batch/MemoryBudget.hpp"

namespace chgate::http {

/// One connection's share of server.max_inflight_bytes: the bytes of the
/// request body it is reading or handling. Reserved before they are read,
/// given back once the request is handled (or the connection ends).
class InflightBytes {
  public:
    explicit InflightBytes(batch::MemoryBudget& budget) : budget_(budget) {}
    ~InflightBytes() { release(); }
    InflightBytes(const InflightBytes&) = delete;
    InflightBytes& operator=(const InflightBytes&) = delete;

    /// All or nothing: false if the gateway has no room for `bytes` more.
    bool reserve(std::uint64_t bytes) {
        if (bytes == 0) return true;
        if (!budget_.try_reserve(bytes)) return false;
        held_ += bytes;
        return true;
    }
    void release() {
        if (held_ == 0) return;
        budget_.release(held_);
        held_ = 0;
    }
    std::uint64_t held() const { return held_; }

  private:
    batch::MemoryBudget& budget_;
    std::uint64_t held_ = 0;
};

}  // namespace chgate::http
