#include "util/Log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "util/TimeFormat.hpp"

namespace chgate::log {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};

const char* label(LogLevel l) {
    switch (l) {
        case LogLevel::debug:
            return "DEBUG";
        case LogLevel::info:
            return "INFO ";
        case LogLevel::warn:
            return "WARN ";
        case LogLevel::error:
            return "ERROR";
    }
    return "?    ";
}
}  // namespace

void set_level(LogLevel level) {
    g_level.store(static_cast<int>(level));
}

bool enabled(LogLevel level) {
    return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write(LogLevel level, const std::string& message) {
    std::string line = format_utc_millis(std::chrono::system_clock::now());
    line += ' ';
    line += label(level);
    line += ' ';
    line += message;
    line += '\n';
    // One write(2) per line: atomic with respect to other threads' lines.
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace chgate::log
