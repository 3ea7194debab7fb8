#pragma once

namespace chgate::http {

/// Which API a request came through: it decides how credentials are read and
/// how success is answered.
enum class Dialect {
    events,     ///< /v1/events: 202 {"accepted": N}, or 200 once committed
    clickhouse  ///< the ClickHouse-compatible endpoint: as ClickHouse answers, and
                ///< its clients' credentials (the `password` URL parameter)
};

}  // namespace chgate::http
