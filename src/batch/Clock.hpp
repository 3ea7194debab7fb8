#pragma once

#include <chrono>

namespace chgate::batch {

/// Every batching decision is made on the monotonic clock, passed in as a value,
/// so strategies can be tested on a fake clock.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using std::chrono::milliseconds;

/// Why a buffer became a batch (`admin`: POST /admin/flush). Shown per table in /metrics.
enum class FlushReason { immediate, size, time, memory, age, shutdown, replay, admin };
inline constexpr int kFlushReasonCount = 8;

const char* to_string(FlushReason r);

}  // namespace chgate::batch
