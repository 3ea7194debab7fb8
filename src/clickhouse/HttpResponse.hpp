#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace chgate::clickhouse {

/// What came back from one HTTP exchange with ClickHouse.
struct HttpResponse {
    bool transport_ok = false;  ///< false: no HTTP answer (refused, reset, timeout, DNS…)
    bool timed_out = false;
    std::string transport_error;  ///< libcurl's description when !transport_ok
    long status = 0;
    std::optional<int> exception_code;  ///< the X-ClickHouse-Exception-Code header, if sent
    std::string body;                   ///< capped; error texts are short
    bool truncated = false;             ///< the answer was longer than the cap
    std::chrono::milliseconds elapsed{0};
};

}  // namespace chgate::clickhouse
