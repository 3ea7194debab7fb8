#pragma once

#include <nlohmann/json.hpp>

#include "metrics/MetricsSnapshot.hpp"

namespace chgate::metrics {

/// GET /metrics: the batching design's `batching` and `calculated` objects, key for key,
/// plus `tables` with each table's counters and current thresholds. Pure.
nlohmann::ordered_json render_metrics_json(const GatewaySnapshot& g);

}  // namespace chgate::metrics
