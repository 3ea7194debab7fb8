#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chgate::config {

using Duration = std::chrono::milliseconds;

/// Parses "500ms", "2s", "5m", "1h", "1d" (and the long forms "seconds",
/// "minutes", … from the batch configuration guide). A bare "0" is accepted as zero; any other
/// number needs a unit, because "2" could mean seconds or milliseconds.
/// Returns nullopt on anything else.
std::optional<Duration> parse_duration(std::string_view text);

/// Parses "512KiB", "10MiB", "1GiB", the decimal "10MB"/"10KB"/"1GB", "100B",
/// or a plain number of bytes. Returns nullopt on anything else.
std::optional<std::uint64_t> parse_size(std::string_view text);

/// Writes a duration back in the largest unit that divides it exactly ("2s", "1500ms").
std::string format_duration(Duration d);

/// Writes a size back in the largest binary unit that divides it exactly ("10MiB", "1000").
std::string format_size(std::uint64_t bytes);

}  // namespace chgate::config
