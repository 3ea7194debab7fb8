#include "metrics/MetricsJson.hpp"

#include <algorithm>
#include <cmath>

#include "util/TimeFormat.hpp"

namespace chgate::metrics {
namespace {

double round_to(double v, int digits) {
    const double scale = std::pow(10.0, digits);
    return std::round(v * scale) / scale;
}

nlohmann::ordered_json failed_logs_json(const GatewaySnapshot& g) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& [table, why] : g.failed_logs)
        out.push_back({{"table", table}, {"error", why}});
    return out;
}

double ratio(std::uint64_t num, std::uint64_t den) {
    return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

nlohmann::ordered_json time_or_null(std::int64_t unix_ms) {
    if (unix_ms <= 0) return nullptr;
    return format_utc_seconds(
        std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms)));
}

nlohmann::ordered_json render_table(const TableSnapshot& t) {
    const auto& c = t.counts;
    nlohmann::ordered_json out = {
        {"strategy", t.strategy},
        {"priority", t.priority},
        {"compression", t.compression},
        {"ack", t.ack},
        {"retry_attempts", t.retry_attempts},
        {"thresholds",
         {{"max_batch_size", t.thresholds.max_batch_size},
          {"current_batch_size", t.thresholds.current_batch_size},
          {"max_batch_time_ms", t.thresholds.max_batch_time.count()},
          {"seal_bytes", t.thresholds.seal_bytes},
          {"max_memory_bytes", t.max_memory},
          {"max_age_ms", t.thresholds.max_age.count()}}},
        {"memory_bytes", t.memory_bytes},
    };
    for (const auto& f : batch::counter_fields<std::uint64_t>()) {
        if (!f.json.empty()) out[std::string(f.json)] = c.*(f.member);
    }
    out["held"] = t.held;
    out["held_reason"] = t.held ? nlohmann::ordered_json(t.held_reason) : nullptr;
    out["held_since"] = t.held ? time_or_null(t.held_since_unix_ms) : nullptr;
    out["oldest_pending_age_ms"] = t.oldest_pending_age_ms;
    out["send_lag_ms"] = t.send_lag_ms;
    out["spool"] = {{"batches", t.spool_batches}, {"rows", t.spool_rows}, {"bytes", t.spool_bytes}};
    if (!t.shards.empty()) {
        auto shards = nlohmann::ordered_json::array();
        for (const auto& s : t.shards) {
            shards.push_back({{"shard", s.shard},
                              {"rows_accepted", s.rows_accepted},
                              {"batches_inserted", s.batches_inserted},
                              {"rows_inserted", s.rows_inserted},
                              {"failed_attempts", s.failed_attempts},
                              {"rows_spooled", s.rows_spooled},
                              {"held", s.held}});
        }
        out["shards"] = std::move(shards);
    }
    out["avg_batch_size"] = round_to(ratio(c.rows_inserted, c.batches_inserted), 1);
    out["avg_flush_latency_ms"] = round_to(ratio(c.flush_latency_ms_sum, c.batches_inserted), 1);
    out["last_flush_time"] = time_or_null(static_cast<std::int64_t>(c.last_flush_unix_ms));
    auto& seals = out["seals"] = nlohmann::ordered_json::object();
    for (int i = 0; i < flush::kFlushReasonCount; ++i)
        seals[flush::to_string(static_cast<flush::FlushReason>(i))] = c.seals[i];
    return out;
}

nlohmann::ordered_json auth_json(const GatewaySnapshot& g) {
    nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
    for (const auto& t : g.tokens) {
        tokens[t.name] = {
            {"requests", t.requests}, {"forbidden", t.forbidden}, {"rate_limited", t.rate_limited}};
    }
    return {{"unauthorized", g.unauthorized}, {"tokens", tokens}};
}

nlohmann::ordered_json storage_json(const GatewaySnapshot& g) {
    return {
        {"dir", g.storage_dir},
        {"fsync", g.fsync},
        {"disk_bytes", g.disk_bytes},
        {"max_disk", g.max_disk},
        {"spool_bytes", g.spool_bytes},
        {"spool_set_aside", g.spool_set_aside},
        {"syncs", g.syncs},
        {"sync_seconds", round_to(g.sync_seconds, 6)},
        {"failed_logs", failed_logs_json(g)},
        {"dead_letters", {{"rows", g.dead_letter_rows}, {"bytes", g.dead_letter_bytes}}},
        {"ready", g.ready},
        {"replay",
         {{"logs", g.replay_logs},
          {"rows", g.replay_rows},
          {"batches", g.replay_batches},
          {"damaged_records", g.replay_damaged},
          {"torn_bytes", g.replay_torn_bytes},
          {"unreadable_segments", g.replay_unreadable_segments}}},
    };
}

}  // namespace

nlohmann::ordered_json render_metrics_json(const GatewaySnapshot& g) {
    std::uint64_t batches = 0, items = 0, failed = 0, latency_sum = 0, queued = 0;
    std::int64_t last_flush = 0;
    nlohmann::ordered_json tables = nlohmann::ordered_json::object();
    for (const auto& t : g.tables) {
        const auto& c = t.counts;
        batches += c.batches_inserted;
        items += c.rows_inserted;
        failed += c.failed_attempts;
        latency_sum += c.flush_latency_ms_sum;
        queued += c.buffered_rows + c.pending_rows;
        last_flush = std::max(last_flush, static_cast<std::int64_t>(c.last_flush_unix_ms));
        tables[t.name] = render_table(t);
    }
    const double success_rate = batches + failed == 0 ? 1.0 : ratio(batches, batches + failed);
    nlohmann::ordered_json out = {
        {"batching",
         {{"enabled", g.enabled},
          {"total_batches", batches},
          {"total_items", items},
          {"failed_batches", failed},
          {"avg_batch_size", static_cast<std::uint64_t>(std::llround(ratio(items, batches)))},
          {"avg_flush_latency_ms",
           static_cast<std::uint64_t>(std::llround(ratio(latency_sum, batches)))},
          {"queued_items", queued},
          {"memory_usage_mb", round_to(static_cast<double>(g.memory_bytes) / (1024.0 * 1024.0), 2)},
          {"last_flush_time", time_or_null(last_flush)}}},
        {"calculated",
         {{"batch_success_rate", round_to(success_rate, 4)},
          {"avg_items_per_batch", round_to(ratio(items, batches), 1)},
          {"events_per_second", round_to(g.events_per_second, 1)}}},
        {"tables", tables},
        {"server",
         {{"connections", g.connections},
          {"max_connections", g.max_connections},
          {"connections_refused", g.connections_refused},
          {"connections_denied", g.connections_denied},
          {"inflight_bytes", g.inflight_bytes},
          {"max_inflight_bytes", g.max_inflight_bytes}}},
        {"reloads",
         {{"applied", g.reloads_applied},
          {"failed", g.reloads_failed},
          {"last_ok", g.last_reload_ok},
          {"last_at", time_or_null(g.last_reload_unix_ms)}}},
    };
    out["auth"] = auth_json(g);
    if (g.has_storage) out["storage"] = storage_json(g);
    return out;
}

}  // namespace chgate::metrics
