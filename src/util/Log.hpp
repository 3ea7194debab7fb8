#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "util/LogLevel.hpp"

namespace chgate::log {

/// Lines go to stderr, one write per line so that threads never interleave
/// within a line, in one of three formats (log.format):
///   text    2026-11-21T10:30:15.123Z INFO  message
///   json    {"ts":"2026-11-21T10:30:15.123Z","level":"info","msg":"message","table":"events"}
///   logfmt  ts=2026-11-21T10:30:15.123Z level=info msg="message" table=events
/// Every message is escaped (escape_for_log: control characters and bytes that
/// are not UTF-8 are written as \xNN) and cut at 8 KiB, since messages quote
/// what clients and ClickHouse sent. json and logfmt add the line's fields
/// (below) after msg; text shows them only as the message words them.
void set_level(LogLevel level);
bool enabled(LogLevel level);
void set_format(LogFormat format);

/// The fields a line may carry, by their stable names (docs/logging.md).
enum class Key : std::uint8_t { table, batch_id, replica, code, rows, bytes };
const char* key_name(Key key);

/// One field of a line: `LOG_WARN << log::table(name) << "..."` adds it to
/// the line's fields, not to its message.
struct Field {
    Key key;
    std::string value;
    bool number = false;  ///< written bare in json, not as a string
};
Field table(std::string_view name);
Field batch_id(std::uint64_t id);
Field replica(std::string_view url);
Field code(int code);
Field rows(std::uint64_t n);
Field bytes(std::uint64_t n);

/// Formats and writes one line (fields may be empty).
void write(LogLevel level, const std::string& message, const std::vector<Field>& fields = {});

/// The line as `format` writes it, without the newline (for tests).
std::string format_line(LogFormat format, std::string_view ts, LogLevel level,
                        std::string_view message, const std::vector<Field>& fields);

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
    Line& operator<<(Field field) {
        fields_.push_back(std::move(field));
        return *this;
    }
    Line& operator<<(const std::vector<Field>& fields) {
        fields_.insert(fields_.end(), fields.begin(), fields.end());
        return *this;
    }

  private:
    LogLevel level_;
    std::uint64_t suppressed_;
    std::ostringstream out_;
    std::vector<Field> fields_;
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
