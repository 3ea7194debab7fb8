#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>

#include "util/LogLevel.hpp"

namespace chgate::log {

/// Lines go to stderr as "2026-11-21T10:30:15.123Z INFO  message", one write per
/// line so that threads never interleave within a line. Every message is
/// escaped (escape_for_log: control characters and bytes that are not UTF-8
/// are written as \xNN) and cut at 8 KiB, since messages quote what clients
/// and ClickHouse sent.
void set_level(LogLevel level);
bool enabled(LogLevel level);
void write(LogLevel level, const std::string& message);

/// Each call site of LOG_* writes at most `lines` lines per `interval`; the
/// lines past that are counted, and the next line written from that site
/// says how many were suppressed. 0 lines: no limit.
void set_rate_limit(std::uint32_t lines, std::chrono::milliseconds interval);

/// One call site's share of the rate limit (a static per LOG_* statement).
struct Site {
    std::atomic<std::int64_t> window_start_ms{0};
    std::atomic<std::uint32_t> lines{0};
    std::atomic<std::uint64_t> suppressed{0};
};
/// True if a line from `site` may be written now; `suppressed` is then how
/// many lines from it were dropped since its last written line.
bool admit(Site& site, std::uint64_t& suppressed);

/// Builds a line with << and writes it at the end of the statement.
class Line {
  public:
    Line(LogLevel level, std::uint64_t suppressed) : level_(level), suppressed_(suppressed) {}
    ~Line();
    Line(const Line&) = delete;
    Line& operator=(const Line&) = delete;
    template <typename T>
    Line& operator<<(const T& value) {
        out_ << value;
        return *this;
    }

  private:
    LogLevel level_;
    std::uint64_t suppressed_;
    std::ostringstream out_;
};

}  // namespace chgate::log

// The level test comes first, so a disabled line costs one comparison; then
// the call site's rate limit (a static per statement: each lambda is its own
// type). A one-pass for loop, unlike if/else, is safe inside an unbraced if.
#define CHGATE_LOG_SITE()                       \
    ([]() -> ::chgate::log::Site& {             \
        static ::chgate::log::Site chgate_site; \
        return chgate_site;                     \
    }())
#define CHGATE_LOG(level)                                                                 \
    for (std::uint64_t                                                                    \
             chgate_log_skipped = 0,                                                      \
             chgate_log_on = ::chgate::log::enabled(level) &&                             \
                             ::chgate::log::admit(CHGATE_LOG_SITE(), chgate_log_skipped); \
         chgate_log_on; chgate_log_on = 0)                                                \
    ::chgate::log::Line(level, chgate_log_skipped)
#define LOG_DEBUG CHGATE_LOG(::chgate::log::LogLevel::debug)
#define LOG_INFO CHGATE_LOG(::chgate::log::LogLevel::info)
#define LOG_WARN CHGATE_LOG(::chgate::log::LogLevel::warn)
#define LOG_ERROR CHGATE_LOG(::chgate::log::LogLevel::error)
