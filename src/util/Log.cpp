#include "util/Log.hpp"

#include <unistd.h>

#include "util/Text.hpp"
#include "util/TimeFormat.hpp"

namespace chgate::log {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::atomic<std::uint32_t> g_rate_lines{20};
std::atomic<std::int64_t> g_rate_interval_ms{10'000};

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

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

void set_level(LogLevel level) {
    g_level.store(static_cast<int>(level));
}

bool enabled(LogLevel level) {
    return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void set_rate_limit(std::uint32_t lines, std::chrono::milliseconds interval) {
    g_rate_lines.store(lines);
    g_rate_interval_ms.store(std::max<std::int64_t>(interval.count(), 1));
}

bool admit(Site& site, std::uint64_t& suppressed) {
    const auto limit = g_rate_lines.load(std::memory_order_relaxed);
    if (limit == 0) {
        suppressed = site.suppressed.exchange(0, std::memory_order_relaxed);
        return true;
    }
    const auto now = now_ms();
    auto start = site.window_start_ms.load(std::memory_order_relaxed);
    // A new window: one thread wins the exchange and resets the count.
    if (now - start >= g_rate_interval_ms.load(std::memory_order_relaxed) &&
        site.window_start_ms.compare_exchange_strong(start, now, std::memory_order_relaxed)) {
        site.lines.store(0, std::memory_order_relaxed);
    }
    if (site.lines.fetch_add(1, std::memory_order_relaxed) < limit) {
        suppressed = site.suppressed.exchange(0, std::memory_order_relaxed);
        return true;
    }
    site.suppressed.fetch_add(1, std::memory_order_relaxed);
    return false;
}

Line::~Line() {
    auto message = escape_for_log(out_.str());
    if (suppressed_ > 0) {
        message += " [" + std::to_string(suppressed_) +
                   " similar lines suppressed before this one: log.rate_limit]";
    }
    write(level_, message);
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
