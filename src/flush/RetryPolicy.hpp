#pragma once

#include <chrono>

namespace chgate::flush {

/// Exponential backoff with full jitter: attempt n waits a uniformly random time
/// in [0, min(max, initial * multiplier^(n-1))], so that many batches failing
/// together do not come back together.
class RetryPolicy {
  public:
    RetryPolicy(std::chrono::milliseconds initial, std::chrono::milliseconds max, double multiplier)
        : initial_(initial), max_(max), multiplier_(multiplier) {}

    /// The ceiling for the wait after failed attempt `attempt` (1-based).
    std::chrono::milliseconds ceiling(int attempt) const;

    /// The wait itself; `unit` is a random draw in [0, 1).
    std::chrono::milliseconds delay(int attempt, double unit) const;

  private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    double multiplier_;
};

}  // namespace chgate::flush
