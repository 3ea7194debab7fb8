// Request targets and URL query strings: split, decoded, looked up.
#include <cstdint>
#include <string_view>

#include "http/UrlQuery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto target = chgate::http::split_target(text);
    chgate::http::percent_decode(target.path);
    for (const char* name : {"query", "ack", "database", "password", "decompress"})
        chgate::http::query_param(target.query, name);
    return 0;
}
