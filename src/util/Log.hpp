#pragma once

#include <sstream>
#include <string>

#include "config/Config.hpp"

namespace chgate::log {

using config::LogLevel;

/// Lines go to stderr as "2026-11-21T10:30:15.123Z INFO  message", one write per
/// line so that threads never interleave within a line.
void set_level(LogLevel level);
bool enabled(LogLevel level);
void write(LogLevel level, const std::string& message);

/// Builds a line with << and writes it at the end of the statement.
class Line {
  public:
    explicit Line(LogLevel level) : level_(level) {}
    ~Line() { write(level_, out_.str()); }
    Line(const Line&) = delete;
    Line& operator=(const Line&) = delete;
    template <typename T>
    Line& operator<<(const T& value) {
        out_ << value;
        return *this;
    }

  private:
    LogLevel level_;
    std::ostringstream out_;
};

}  // namespace chgate::log

// The level test comes first, so a disabled line costs one comparison. A
// one-pass for loop, unlike if/else, is safe inside an unbraced if.
#define CHGATE_LOG(level)                                                                          \
    for (bool chgate_log_on = ::chgate::log::enabled(level); chgate_log_on; chgate_log_on = false) \
    ::chgate::log::Line(level)
#define LOG_DEBUG CHGATE_LOG(::chgate::log::LogLevel::debug)
#define LOG_INFO CHGATE_LOG(::chgate::log::LogLevel::info)
#define LOG_WARN CHGATE_LOG(::chgate::log::LogLevel::warn)
#define LOG_ERROR CHGATE_LOG(::chgate::log::LogLevel::error)
