#pragma once

#include <chrono>
#include <cstdint>

#include "util/Mutex.hpp"

namespace chgate::http {

/// A rate limit: `rate` per second, saved up to one second's worth. A request
/// goes through while the bucket is not empty, and takes what it needs even
/// past empty (so that a request larger than a second's worth goes through
/// when the bucket is full, and the next ones wait longer). Thread-safe.
class TokenBucket {
  public:
    using Clock = std::chrono::steady_clock;

    explicit TokenBucket(double rate, Clock::time_point now = Clock::now())
        : rate_(rate), tokens_(rate), last_(now) {}

    struct Decision {
        bool allowed = true;
        double remaining = 0;     ///< whole units left after this request (0 if none)
        double wait_seconds = 0;  ///< until the bucket is not empty again, when refused
    };

    /// Takes `n` units if the bucket is not empty at `now`.
    Decision take(double n, Clock::time_point now);

    /// A new rate (a reload); what is saved up is kept, within the new size.
    void set_rate(double rate);
    double rate() const;

  private:
    void refill(Clock::time_point now) REQUIRES(mutex_);

    mutable Mutex mutex_;
    // Guarded by mutex_.
    double rate_ GUARDED_BY(mutex_);
    double tokens_ GUARDED_BY(mutex_);
    Clock::time_point last_ GUARDED_BY(mutex_);
};

}  // namespace chgate::http
