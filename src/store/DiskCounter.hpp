#pragma once

#include <atomic>
#include <cstdint>

namespace chgate::store {

/// Bytes one owner (a log, the spool) holds on disk, also summed into a total
/// shared by every owner, so that a quota check is one atomic load.
class DiskCounter {
  public:
    explicit DiskCounter(std::atomic<std::uint64_t>* total = nullptr) : total_(total) {}
    DiskCounter(const DiskCounter&) = delete;
    DiskCounter& operator=(const DiskCounter&) = delete;

    void add(std::uint64_t n) {
        own_.fetch_add(n, std::memory_order_relaxed);
        if (total_ != nullptr) total_->fetch_add(n, std::memory_order_relaxed);
    }
    void sub(std::uint64_t n) {
        own_.fetch_sub(n, std::memory_order_relaxed);
        if (total_ != nullptr) total_->fetch_sub(n, std::memory_order_relaxed);
    }
    /// Adds `n` only if the total (or, without one, this counter) stays at
    /// most `limit` (0: no limit), in one step: two writers cannot both take
    /// the last room.
    bool try_add(std::uint64_t n, std::uint64_t limit) {
        if (limit == 0) {
            add(n);
            return true;
        }
        auto& bounded = total_ != nullptr ? *total_ : own_;
        auto now = bounded.load(std::memory_order_relaxed);
        do {
            if (now + n > limit) return false;
        } while (!bounded.compare_exchange_weak(now, now + n, std::memory_order_relaxed));
        if (total_ != nullptr) own_.fetch_add(n, std::memory_order_relaxed);
        return true;
    }
    std::uint64_t load() const { return own_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> own_{0};
    std::atomic<std::uint64_t>* const total_;
};

}  // namespace chgate::store
