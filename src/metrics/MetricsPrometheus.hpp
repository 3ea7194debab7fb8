#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/MetricsSnapshot.hpp"

namespace chgate::metrics {

/// Whether ClickHouse answers, for the text view (the JSON view has the detail).
struct ClickHouseUp {
    bool reachable = false;
    int replicas = 0;
    int replicas_reachable = 0;
    /// Each server once (its URL, never credentials) with its probe and breaker.
    struct Server {
        std::string url;
        bool reachable = false;
        std::string breaker;  ///< closed, open or half_open
    };
    std::vector<Server> servers;
    /// With clickhouse.cluster: each shard (from 1), reachable when one of its replicas is.
    std::vector<std::pair<std::uint32_t, bool>> shards;
};

/// The snapshot in Prometheus' text exposition format (version 0.0.4), built
/// with prometheus-cpp's MetricFamily and TextSerializer: `chgate_` metrics,
/// per-table ones labelled `table`. Counters end in `_total`; durations are
/// in seconds and sizes in bytes, as Prometheus names them.
std::string render_metrics_prometheus(const GatewaySnapshot& g, const ClickHouseUp& clickhouse);

/// Whether a GET /metrics with this Accept header wants the text view:
/// Prometheus asks for OpenMetrics or text/plain; curl (*/*), browsers and
/// clients asking for JSON get JSON.
bool accept_wants_prometheus_text(std::string_view accept);

/// The Content-Type of that text.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace chgate::metrics
