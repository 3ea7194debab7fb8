#include "Events.hpp"

#include <cstdio>

namespace chgate::micro {

std::string event(int i) {
    static const char* const kTypes[] = {"page_view", "add_to_cart", "purchase", "search", "click"};
    static const char* const kCountries[] = {"US", "DE", "GB", "FR", "IN", "BR", "JP"};
    char buf[512];
    const int n = std::snprintf(
        buf, sizeof buf,
        "{\"event_id\":\"bench-%08d\",\"user_id\":%d,\"session_id\":\"s-%08x\","
        "\"event_type\":\"%s\",\"event_timestamp\":\"2026-11-22 10:30:15\","
        "\"page_url\":\"https://shop.example.com/products/42\",\"device_type\":\"mobile\","
        "\"browser\":\"Firefox\",\"country\":\"%s\",\"revenue\":%d.99,\"duration_seconds\":%d}",
        i, 10000 + i * 7919 % 90000, static_cast<unsigned>(i) * 2654435761U, kTypes[i % 5],
        kCountries[i % 7], i % 500, i % 3600);
    return std::string(buf, static_cast<std::size_t>(n));
}

std::string body(int n, bool ndjson) {
    std::string out = ndjson ? "" : "[";
    for (int i = 0; i < n; ++i) {
        if (i > 0 && !ndjson) out.push_back(',');
        out += event(i);
        if (ndjson) out.push_back('\n');
    }
    if (!ndjson) out.push_back(']');
    return out;
}

}  // namespace chgate::micro
