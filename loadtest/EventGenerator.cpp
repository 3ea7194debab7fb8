#include "EventGenerator.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace chgate::load {
namespace {

constexpr const char* kTypes[] = {"page_view", "add_to_cart", "purchase", "search", "click"};
constexpr const char* kDevices[] = {"desktop", "mobile", "tablet"};
constexpr const char* kBrowsers[] = {"Chrome", "Firefox", "Safari", "Edge"};
constexpr const char* kCountries[] = {"US", "DE", "GB", "FR", "IN", "BR", "JP"};
constexpr const char* kPages[] = {"/",     "/products", "/products/42",
                                  "/cart", "/checkout", "/search"};

template <typename T, std::size_t N>
const T& pick(const T (&items)[N], std::uint64_t r) {
    return items[r % N];
}

}  // namespace

EventGenerator::EventGenerator(std::string run_id, int connection)
    : prefix_(std::move(run_id) + "-" + std::to_string(connection) + "-"),
      rng_(0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(connection + 1)) {}

void EventGenerator::append_event(std::string& out) {
    // xorshift: cheap, and good enough to vary the fields.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    const auto r = rng_;
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[512];
    const int n = std::snprintf(
        buf, sizeof buf,
        "{\"event_id\":\"%s%llu\",\"user_id\":%llu,\"session_id\":\"s-%08llx\","
        "\"event_type\":\"%s\",\"event_timestamp\":\"%04d-%02d-%02d %02d:%02d:%02d\","
        "\"page_url\":\"https://shop.example.com%s\",\"device_type\":\"%s\",\"browser\":\"%s\","
        "\"country\":\"%s\",\"revenue\":%llu.%02llu,\"duration_seconds\":%llu}",
        prefix_.c_str(), static_cast<unsigned long long>(sequence_++),
        static_cast<unsigned long long>(r % 100000), static_cast<unsigned long long>(r >> 32),
        pick(kTypes, r >> 3), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
        tm.tm_sec, pick(kPages, r >> 7), pick(kDevices, r >> 11), pick(kBrowsers, r >> 13),
        pick(kCountries, r >> 17), static_cast<unsigned long long>((r >> 20) % 500),
        static_cast<unsigned long long>((r >> 29) % 100),
        static_cast<unsigned long long>((r >> 40) % 3600));
    out.append(buf, static_cast<std::size_t>(n));
}

void EventGenerator::fill(std::string& out, int count, bool ndjson) {
    out.clear();
    if (!ndjson) out.push_back('[');
    for (int i = 0; i < count; ++i) {
        if (i > 0) out.push_back(ndjson ? '\n' : ',');
        append_event(out);
    }
    out.push_back(ndjson ? '\n' : ']');
}

}  // namespace chgate::load
