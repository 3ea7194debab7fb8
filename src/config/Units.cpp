#include "config/Units.hpp"

#include "util/Strings.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace chgate::config {
namespace {

// Splits "10MiB" into 10 and "MiB". The number must be a non-negative integer.
bool split_number(std::string_view text, std::uint64_t& number, std::string_view& unit) {
    text = trim(text);
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, number);
    if (ec != std::errc{} || ptr == text.data()) return false;
    unit = trim(std::string_view(ptr, static_cast<std::size_t>(end - ptr)));
    return true;
}

bool mul_overflows(std::uint64_t a, std::uint64_t b) {
    return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 15> kUnits{{
        {"ms", 1},
        {"millisecond", 1},
        {"milliseconds", 1},
        {"s", 1000},
        {"second", 1000},
        {"seconds", 1000},
        {"m", 60'000},
        {"minute", 60'000},
        {"minutes", 60'000},
        {"h", 3'600'000},
        {"hour", 3'600'000},
        {"hours", 3'600'000},
        {"d", 86'400'000},
        {"day", 86'400'000},
        {"days", 86'400'000},
    }};
    std::uint64_t n = 0;
    std::string_view unit;
    if (!split_number(text, n, unit)) return std::nullopt;
    if (unit.empty()) {
        if (n == 0) return Duration{0};
        return std::nullopt;
    }
    for (const auto& [name, ms] : kUnits) {
        if (unit != name) continue;
        // Ten years is far beyond any sane timeout and keeps arithmetic safe.
        if (mul_overflows(n, ms) || n * ms > 315'360'000'000ULL) return std::nullopt;
        return Duration{static_cast<Duration::rep>(n * ms)};
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 10> kUnits{{
        {"B", 1},
        {"KiB", 1ULL << 10},
        {"MiB", 1ULL << 20},
        {"GiB", 1ULL << 30},
        {"TiB", 1ULL << 40},
        {"KB", 1000ULL},
        {"MB", 1000ULL * 1000},
        {"GB", 1000ULL * 1000 * 1000},
        {"TB", 1000ULL * 1000 * 1000 * 1000},
        {"kB", 1000ULL},
    }};
    std::uint64_t n = 0;
    std::string_view unit;
    if (!split_number(text, n, unit)) return std::nullopt;
    if (unit.empty()) return n;
    for (const auto& [name, factor] : kUnits) {
        if (unit != name) continue;
        if (mul_overflows(n, factor)) return std::nullopt;
        return n * factor;
    }
    return std::nullopt;
}

std::string format_duration(Duration d) {
    const auto ms = static_cast<std::uint64_t>(d.count());
    if (ms == 0) return "0s";
    static constexpr std::array<std::pair<const char*, std::uint64_t>, 4> kUnits{{
        {"d", 86'400'000},
        {"h", 3'600'000},
        {"m", 60'000},
        {"s", 1000},
    }};
    for (const auto& [name, factor] : kUnits) {
        if (ms % factor == 0) return std::to_string(ms / factor) + name;
    }
    return std::to_string(ms) + "ms";
}

std::string format_size(std::uint64_t bytes) {
    static constexpr std::array<std::pair<const char*, std::uint64_t>, 4> kUnits{{
        {"TiB", 1ULL << 40},
        {"GiB", 1ULL << 30},
        {"MiB", 1ULL << 20},
        {"KiB", 1ULL << 10},
    }};
    for (const auto& [name, factor] : kUnits) {
        if (bytes != 0 && bytes % factor == 0) return std::to_string(bytes / factor) + name;
    }
    return std::to_string(bytes);
}

}  // namespace chgate::config
