#pragma once

#include <chrono>

#include "util/Mutex.hpp"

namespace chgate::clickhouse {

/// Keeps INSERTs away from a replica that keeps failing. Closed: requests go
/// through. After `failures` consecutive failures it opens: nothing goes
/// through for `cooldown`. Then it is half-open: one trial request goes; its
/// success closes the breaker, its failure opens it again. Thread-safe; the
/// clock is passed in.
class CircuitBreaker {
  public:
    using Clock = std::chrono::steady_clock;
    enum class State { closed, open, half_open };

    CircuitBreaker(int failures, std::chrono::milliseconds cooldown);

    /// May a request go now? In half-open state, only one until it reports.
    bool allow(Clock::time_point now);
    void on_success();
    void on_failure(Clock::time_point now);

    State state(Clock::time_point now) const;
    int consecutive_failures() const;

  private:
    const int threshold_;
    const std::chrono::milliseconds cooldown_;
    mutable Mutex mutex_;
    // Guarded by mutex_.
    State state_ GUARDED_BY(mutex_) = State::closed;
    int failures_ GUARDED_BY(mutex_) = 0;
    Clock::time_point opened_at_ GUARDED_BY(mutex_){};
    bool trial_in_flight_ GUARDED_BY(mutex_) = false;
};

const char* to_string(CircuitBreaker::State s);

}  // namespace chgate::clickhouse
