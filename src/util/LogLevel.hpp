#pragma once

namespace chgate::log {

enum class LogLevel { debug, info, warn, error };

}  // namespace chgate::log
