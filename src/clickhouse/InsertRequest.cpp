#include "clickhouse/InsertRequest.hpp"

#include <cstdio>

#include "core/Crc32c.hpp"

namespace chgate::clickhouse {

std::string url_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                                c == '~';
        if (unreserved) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
        }
    }
    return out;
}

std::string dedup_token(std::uint64_t batch_id, std::string_view rows) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "chgate-%llu-%08x-%zu",
                  static_cast<unsigned long long>(batch_id), core::crc32c(rows.data(), rows.size()),
                  rows.size());
    return buf;
}

std::string build_insert_url(const std::string& base_url, const std::string& insert_query,
                             const ServerInfo& server, std::string_view dedup_token,
                             bool distributed, bool skip_unknown_fields) {
    std::string url = base_url + "/?query=" + url_encode(insert_query);
    // A Distributed table's INSERT ends once every shard has the rows, whatever
    // clickhouse.settings says, so that "inserted" means what it says.
    const bool sync = distributed && server.insert_distributed_sync;
    for (const auto& [name, value] : server.settings) {
        if (sync && name == "insert_distributed_sync") continue;
        url.append("&").append(url_encode(name)).append("=").append(url_encode(value));
    }
    if (sync) url += "&insert_distributed_sync=1";
    if (skip_unknown_fields && !server.settings.contains("input_format_skip_unknown_fields"))
        url += "&input_format_skip_unknown_fields=1";
    // Without it a server may answer 200 and then fail mid-stream.
    if (server.wait_end_of_query && !server.settings.contains("wait_end_of_query"))
        url += "&wait_end_of_query=1";
    // chgate already batches; a server-side async buffer would only add a second
    // place where acknowledged rows could wait.
    if (server.async_insert && !server.settings.contains("async_insert")) url += "&async_insert=0";
    if (server.insert_deduplication_token && !dedup_token.empty()) {
        url.append("&insert_deduplication_token=").append(url_encode(dedup_token));
    }
    return url;
}

}  // namespace chgate::clickhouse
