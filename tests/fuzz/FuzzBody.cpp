// Body decoding: bytes as a JSON object, an array of objects, or NDJSON.
// The first byte picks the format; every row slice must lie inside the body.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "ingest/BodyDecoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto format = data[0] % 2 == 0 ? chgate::ingest::BodyFormat::detect
                                         : chgate::ingest::BodyFormat::ndjson;
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<chgate::ingest::RowSlice> rows;
    chgate::ingest::DecodeError error;
    if (chgate::ingest::decode_body(body, format, rows, error)) {
        for (const auto& r : rows) {
            if (std::size_t(r.offset) + r.length > body.size()) std::abort();
        }
    } else if (error.offset > body.size()) {
        std::abort();
    }
    return 0;
}
