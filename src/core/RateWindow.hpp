#pragma once

#include <array>
#include <cstdint>

#include "core/Clock.hpp"
#include "util/Mutex.hpp"

namespace chgate::core {

/// Counts events in one-second buckets and reports the mean rate over about
/// the last kWindowSeconds: the second in progress and the full seconds before
/// it, divided by the time they cover (less just after start). /metrics
/// reports events_per_second from it.
class RateWindow {
  public:
    static constexpr int kWindowSeconds = 10;

    explicit RateWindow(TimePoint start) : start_(start) {}

    void add(std::uint64_t count, TimePoint now);
    double per_second(TimePoint now) const;

  private:
    std::int64_t second_of(TimePoint t) const;
    void advance(std::int64_t second) const REQUIRES(mutex_);

    const TimePoint start_;
    mutable Mutex mutex_;
    // Guarded by mutex_: bucket i holds the count of second (newest_ - k) where
    // i == (newest_ - k) mod size.
    mutable std::array<std::uint64_t, kWindowSeconds + 1> buckets_ GUARDED_BY(mutex_){};
    mutable std::int64_t newest_ GUARDED_BY(mutex_) = 0;
};

}  // namespace chgate::core
