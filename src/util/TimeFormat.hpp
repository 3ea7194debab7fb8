#pragma once

#include <chrono>
#include <string>

namespace chgate {

/// "2026-11-21T10:30:15Z", as /metrics shows last_flush_time.
std::string format_utc_seconds(std::chrono::system_clock::time_point t);

/// "2026-11-21T10:30:15.123Z", for log lines.
std::string format_utc_millis(std::chrono::system_clock::time_point t);

}  // namespace chgate
