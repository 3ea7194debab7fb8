#pragma once

#include <chrono>

namespace chgate {

/// Every batching, retry and hold decision is made on the monotonic clock,
/// passed in as a value, so that the pure parts can be tested on a fake clock.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using std::chrono::milliseconds;

}  // namespace chgate
