#include "util/Log.hpp"

#include <unistd.h>

#include <iterator>

#include "util/Text.hpp"
#include "util/TimeFormat.hpp"

namespace chgate::log {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::atomic<int> g_format{static_cast<int>(LogFormat::text)};
std::atomic<std::uint32_t> g_rate_lines{20};
std::atomic<std::int64_t> g_rate_interval_ms{10'000};

// Each level's name: in text (upper case, padded), and in json and logfmt.
struct LevelNames {
    const char* text;
    const char* field;
};
constexpr LevelNames kLevelNames[] = {
    {"DEBUG", "debug"}, {"INFO ", "info"}, {"WARN ", "warn"}, {"ERROR", "error"}};

const LevelNames& names_of(LogLevel l) {
    const auto i = static_cast<std::size_t>(l);
    return kLevelNames[i < std::size(kLevelNames) ? i : 3];
}

// A field's text value: escaped as messages are, and shorter.
constexpr std::size_t kMaxFieldBytes = 1024;

Field text_field(Key key, std::string_view value) {
    return {key, escape_for_log(value, kMaxFieldBytes), false};
}

Field number_field(Key key, std::uint64_t value) {
    return {key, std::to_string(value), true};
}

// logfmt: bare when it can be, else quoted with \ and " escaped.
void append_logfmt_value(std::string& out, std::string_view v) {
    const bool bare = !v.empty() && v.find_first_of(" =\"\\") == std::string_view::npos;
    if (bare) {
        out += v;
        return;
    }
    out += '"';
    for (const char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

const char* key_name(Key key) {
    switch (key) {
        case Key::table:
            return "table";
        case Key::batch_id:
            return "batch_id";
        case Key::replica:
            return "replica";
        case Key::code:
            return "code";
        case Key::rows:
            return "rows";
        case Key::bytes:
            return "bytes";
    }
    return "?";
}

Field table(std::string_view name) {
    return text_field(Key::table, name);
}
Field batch_id(std::uint64_t id) {
    return number_field(Key::batch_id, id);
}
Field replica(std::string_view url) {
    return text_field(Key::replica, url);
}
Field code(int code) {
    return {Key::code, std::to_string(code), true};
}
Field rows(std::uint64_t n) {
    return number_field(Key::rows, n);
}
Field bytes(std::uint64_t n) {
    return number_field(Key::bytes, n);
}

void set_format(LogFormat format) {
    g_format.store(static_cast<int>(format));
}

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
    write(level_, message, fields_);
}

std::string format_line(LogFormat format, std::string_view ts, LogLevel level,
                        std::string_view message, const std::vector<Field>& fields) {
    std::string line;
    line.reserve(message.size() + 64 + fields.size() * 24);
    switch (format) {
        case LogFormat::text:
            line.append(ts).append(" ").append(names_of(level).text).append(" ").append(message);
            break;
        case LogFormat::json:
            line.append("{\"ts\":\"")
                .append(ts)
                .append("\",\"level\":\"")
                .append(names_of(level).field);
            line.append("\",\"msg\":\"").append(json_escape(message)).append("\"");
            for (const auto& f : fields) {
                line.append(",\"").append(key_name(f.key)).append("\":");
                if (f.number) {
                    line.append(f.value);
                } else {
                    line.append("\"").append(json_escape(f.value)).append("\"");
                }
            }
            line += '}';
            break;
        case LogFormat::logfmt:
            line.append("ts=")
                .append(ts)
                .append(" level=")
                .append(names_of(level).field)
                .append(" msg=");
            append_logfmt_value(line, message);
            for (const auto& f : fields) {
                line.append(" ").append(key_name(f.key)).append("=");
                append_logfmt_value(line, f.value);
            }
            break;
    }
    return line;
}

void write(LogLevel level, const std::string& message, const std::vector<Field>& fields) {
    const auto format = static_cast<LogFormat>(g_format.load(std::memory_order_relaxed));
    std::string line = format_line(format, format_utc_millis(std::chrono::system_clock::now()),
                                   level, message, fields);
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
