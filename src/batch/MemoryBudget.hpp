#pragma once

#include <atomic>
#include <cstdint>

namespace chgate::batch {

/// A byte quota shared by many writers: batching.max_memory for the gateway,
/// or one table's max_memory. Bytes are reserved before rows are copied in and
/// released when their batch is finished.
class MemoryBudget {
  public:
    explicit MemoryBudget(std::uint64_t limit) : limit_(limit) {}

    /// All or nothing: false leaves the budget unchanged.
    bool try_reserve(std::uint64_t bytes) {
        auto held = held_.load(std::memory_order_relaxed);
        do {
            if (held + bytes > limit_.load(std::memory_order_relaxed)) return false;
        } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
        return true;
    }

    /// Past the limit: for bytes that must be held regardless (replay).
    void force_reserve(std::uint64_t bytes) { held_.fetch_add(bytes, std::memory_order_relaxed); }

    void release(std::uint64_t bytes) { held_.fetch_sub(bytes, std::memory_order_relaxed); }

    std::uint64_t held() const { return held_.load(std::memory_order_relaxed); }
    std::uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
    /// A new limit (a config reload): bytes held past it stay held, and
    /// reservations fail until enough are released.
    void set_limit(std::uint64_t limit) { limit_.store(limit, std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> limit_;
    std::atomic<std::uint64_t> held_{0};
};

}  // namespace chgate::batch
