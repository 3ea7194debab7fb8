#pragma once

namespace chgate::log {

enum class LogLevel { debug, info, warn, error };

/// How a line is written: plain text, one JSON object, or logfmt.
enum class LogFormat { text, json, logfmt };

}  // namespace chgate::log
