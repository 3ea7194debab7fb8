// Sharding keys: bytes as a row (a JSON object) whose field "k" is the key;
// the first byte picks cityHash64(k) or the plain field k. Every row that
// scans as an object gets a key or a fault, never a crash; a string decoded
// from JSON is never longer than its escaped text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/JsonScanner.hpp"
#include "ingest/ShardKey.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using chgate::core::ShardBy;
    if (size == 0) return 0;
    const ShardBy by{data[0] % 2 == 0 ? ShardBy::Kind::city_hash : ShardBy::Kind::integer, "k"};
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto scan = chgate::ingest::scan_value(text, 0);
    if (!scan.ok() || text.empty()) return 0;
    std::string scratch;
    if (text[0] == '{') {
        const auto key = chgate::ingest::shard_key(text.substr(0, scan.end), by, scratch);
        if (!key.ok() && key.fault == chgate::ingest::KeyFault::none) std::abort();
    } else if (text[0] == '"') {
        const auto body = text.substr(1, scan.end - 2);
        if (chgate::ingest::decode_json_string(body, scratch) && scratch.size() > body.size()) {
            std::abort();
        }
    }
    return 0;
}
