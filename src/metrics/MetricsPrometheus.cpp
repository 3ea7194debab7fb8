#include "metrics/MetricsPrometheus.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <cctype>
#include <functional>

namespace chgate::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
    MetricFamily f;
    f.name = "chgate_" + std::move(name);
    f.help = std::move(help);
    f.type = type;
    return f;
}

void add(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter) {
        m.counter.value = value;
    } else {
        m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
}

double seconds(std::int64_t ms) {
    return static_cast<double>(ms) / 1000.0;
}

// The per-table families that are not a plain counter of TableCounts.
struct TableMetric {
    const char* name;
    const char* help;
    MetricType type;
    std::function<double(const TableSnapshot&)> value;
};

const std::vector<TableMetric>& table_metrics() {
    using T = TableSnapshot;
    static const std::vector<TableMetric> all = {
        {"memory_bytes", "Bytes of rows the table holds in memory.", MetricType::Gauge,
         [](const T& t) { return double(t.memory_bytes); }},
        {"max_memory_bytes", "The table's max_memory.", MetricType::Gauge,
         [](const T& t) { return double(t.max_memory); }},
        {"spool_rows", "Rows in the spool now.", MetricType::Gauge,
         [](const T& t) { return double(t.spool_rows); }},
        {"spool_bytes", "Bytes of the table's rows in the spool.", MetricType::Gauge,
         [](const T& t) { return double(t.spool_bytes); }},
        {"held", "1 while the table is held.", MetricType::Gauge,
         [](const T& t) { return t.held ? 1.0 : 0.0; }},
        {"oldest_pending_age_seconds", "Age of the oldest event not yet in ClickHouse.",
         MetricType::Gauge, [](const T& t) { return seconds(t.oldest_pending_age_ms); }},
        {"send_lag_seconds", "How long the oldest sealed batch has waited.", MetricType::Gauge,
         [](const T& t) { return seconds(t.send_lag_ms); }},
        {"flush_latency_seconds_total", "Total time of committed INSERTs.", MetricType::Counter,
         [](const T& t) {
             return seconds(static_cast<std::int64_t>(t.counts.flush_latency_ms_sum));
         }},
        {"current_batch_size", "The size trigger now (adaptive moves it).", MetricType::Gauge,
         [](const T& t) { return double(t.thresholds.current_batch_size); }},
    };
    return all;
}

void add_table_families(const GatewaySnapshot& g, std::vector<MetricFamily>& out) {
    for (const auto& c : batch::counter_fields<std::uint64_t>()) {
        if (c.prometheus.empty()) continue;
        auto f = family(std::string(c.prometheus), std::string(c.help),
                        c.gauge ? MetricType::Gauge : MetricType::Counter);
        for (const auto& t : g.tables)
            add(f, double(t.counts.*(c.member)), {{"table", t.name}});
        out.push_back(std::move(f));
    }
    for (const auto& m : table_metrics()) {
        auto f = family(m.name, m.help, m.type);
        for (const auto& t : g.tables)
            add(f, m.value(t), {{"table", t.name}});
        out.push_back(std::move(f));
    }
    // Tables with shard_by: each shard's counters, labelled table and shard.
    struct ShardMetric {
        const char* name;
        const char* help;
        MetricType type;
        std::uint64_t ShardSnapshot::*member;
    };
    static const ShardMetric kShardMetrics[] = {
        {"shard_rows_accepted_total", "Events accepted for the shard.", MetricType::Counter,
         &ShardSnapshot::rows_accepted},
        {"shard_batches_inserted_total", "Batches the shard committed.", MetricType::Counter,
         &ShardSnapshot::batches_inserted},
        {"shard_rows_inserted_total", "Rows the shard committed.", MetricType::Counter,
         &ShardSnapshot::rows_inserted},
        {"shard_failed_attempts_total", "INSERTs to the shard that failed.", MetricType::Counter,
         &ShardSnapshot::failed_attempts},
        {"shard_rows_spooled_total", "Rows of the shard moved to the spool.", MetricType::Counter,
         &ShardSnapshot::rows_spooled},
    };
    for (const auto& m : kShardMetrics) {
        auto f = family(m.name, m.help, m.type);
        for (const auto& t : g.tables) {
            for (const auto& s : t.shards)
                add(f, double(s.*(m.member)),
                    {{"table", t.name}, {"shard", std::to_string(s.shard)}});
        }
        if (!f.metric.empty()) out.push_back(std::move(f));
    }
    auto held = family("shard_held", "1 while a buffer of the shard is held.", MetricType::Gauge);
    for (const auto& t : g.tables) {
        for (const auto& s : t.shards)
            add(held, s.held ? 1 : 0, {{"table", t.name}, {"shard", std::to_string(s.shard)}});
    }
    if (!held.metric.empty()) out.push_back(std::move(held));
    // The ack level as an info-style gauge: 1 for the table's level.
    auto ack = family("table_ack_level", "The table's ack level (1 for the one in use).",
                      MetricType::Gauge);
    for (const auto& t : g.tables)
        add(ack, 1, {{"table", t.name}, {"ack", t.ack}});
    out.push_back(std::move(ack));
}

}  // namespace

bool accept_wants_prometheus_text(std::string_view accept) {
    const auto has = [&](std::string_view what) {
        // Media types are case-insensitive; these are short, so compare by hand.
        if (accept.size() < what.size()) return false;
        for (std::size_t i = 0; i + what.size() <= accept.size(); ++i) {
            std::size_t k = 0;
            while (k < what.size() &&
                   std::tolower(static_cast<unsigned char>(accept[i + k])) == what[k])
                ++k;
            if (k == what.size()) return true;
        }
        return false;
    };
    if (has("application/openmetrics-text")) return true;
    return has("text/plain") && !has("application/json");
}

namespace {

// Families of one sample with no labels, appended to `out`.
struct Singles {
    std::vector<MetricFamily>& out;
    void gauge(const char* name, const char* help, double v) const {
        one(name, help, v, MetricType::Gauge);
    }
    void counter(const char* name, const char* help, double v) const {
        one(name, help, v, MetricType::Counter);
    }
    void one(const char* name, const char* help, double v, MetricType type) const {
        auto f = family(name, help, type);
        add(f, v);
        out.push_back(std::move(f));
    }
};

void add_gateway_families(const GatewaySnapshot& g, const ClickHouseUp& clickhouse,
                          const Singles& s) {
    s.gauge("gateway_memory_bytes", "Bytes of rows held in memory by every table.",
            double(g.memory_bytes));
    s.gauge("gateway_max_memory_bytes", "batching.max_memory.", double(g.max_memory));
    s.gauge("events_per_second", "Rows committed per second, over about the last 10 s.",
            g.events_per_second);
    s.gauge("wal_replayed", "1 once the write-ahead logs are replayed (see /readyz for readiness).",
            g.ready ? 1 : 0);
    s.gauge("clickhouse_reachable", "1 while some ClickHouse replica answers its probe.",
            clickhouse.reachable ? 1 : 0);
    s.gauge("clickhouse_replicas", "ClickHouse replicas configured.", clickhouse.replicas);
    s.gauge("clickhouse_replicas_reachable", "ClickHouse replicas answering their probe.",
            clickhouse.replicas_reachable);
    {
        auto up = family("clickhouse_server_reachable",
                         "1 while the ClickHouse server answers its probe.", MetricType::Gauge);
        auto breaker = family("clickhouse_server_breaker",
                              "The server's circuit breaker: 1 for its state now (closed, open, "
                              "half_open).",
                              MetricType::Gauge);
        for (const auto& server : clickhouse.servers) {
            add(up, server.reachable ? 1 : 0, {{"server", server.url}});
            for (const char* state : {"closed", "open", "half_open"}) {
                add(breaker, server.breaker == state ? 1 : 0,
                    {{"server", server.url}, {"state", state}});
            }
        }
        s.out.push_back(std::move(up));
        s.out.push_back(std::move(breaker));
        if (!clickhouse.shards.empty()) {
            auto shard =
                family("clickhouse_shard_reachable",
                       "1 while one of the shard's replicas answers its probe.", MetricType::Gauge);
            for (const auto& [number, reachable] : clickhouse.shards)
                add(shard, reachable ? 1 : 0, {{"shard", std::to_string(number)}});
            s.out.push_back(std::move(shard));
        }
    }
    s.gauge("connections", "Client connections open.", double(g.connections));
    s.gauge("max_connections", "server.max_connections.", double(g.max_connections));
    s.counter("connections_refused_total",
              "Connections answered 503 (or closed) for being past server.max_connections or "
              "max_connections_per_ip.",
              double(g.connections_refused));
    s.counter("connections_denied_total",
              "Connections closed for coming from outside "
              "server.allow_from.",
              double(g.connections_denied));
    s.gauge("inflight_bytes", "Bytes of request bodies being read or handled.",
            double(g.inflight_bytes));
    s.gauge("max_inflight_bytes", "server.max_inflight_bytes.", double(g.max_inflight_bytes));
    {
        auto reloads = family("config_reloads_total",
                              "Configuration reloads (SIGHUP, POST /admin/reload), by outcome.",
                              MetricType::Counter);
        add(reloads, double(g.reloads_applied), {{"outcome", "applied"}});
        add(reloads, double(g.reloads_failed), {{"outcome", "failed"}});
        s.out.push_back(std::move(reloads));
    }
    s.gauge("config_last_reload_successful",
            "0 when the last reload failed (the configuration before it stays in use); 1 "
            "otherwise.",
            g.last_reload_ok ? 1 : 0);
    s.gauge(
        "readiness_max_lag_seconds",
        "readiness.max_lag: /readyz answers 503 while a table's send lag is past it (0: never).",
        seconds(g.readiness_max_lag_ms));
    s.gauge("readiness_max_spool_bytes",
            "readiness.max_spool_bytes: /readyz answers 503 while the spool holds more (0: never).",
            double(g.readiness_max_spool_bytes));
    s.gauge("config_last_reload_timestamp_seconds", "When the last reload ran (0: none yet).",
            seconds(g.last_reload_unix_ms));
}

void add_auth_families(const GatewaySnapshot& g, const Singles& s) {
    s.counter("auth_unauthorized_total", "Requests refused with 401: no valid token.",
              double(g.unauthorized));
    {
        auto f = family("auth_requests_total",
                        "Ingest requests per token name, by outcome (admitted; 403 for a table "
                        "outside its globs; 429 past its rate).",
                        MetricType::Counter);
        for (const auto& t : g.tokens) {
            add(f, double(t.requests), {{"token", t.name}, {"outcome", "admitted"}});
            add(f, double(t.forbidden), {{"token", t.name}, {"outcome", "forbidden"}});
            add(f, double(t.rate_limited), {{"token", t.name}, {"outcome", "rate_limited"}});
        }
        s.out.push_back(std::move(f));
    }
}

void add_storage_families(const GatewaySnapshot& g, const Singles& s) {
    s.gauge("disk_bytes",
            "Bytes of write-ahead logs (with their preallocated space), spool "
            "and dead letters on disk.",
            double(g.disk_bytes));
    s.gauge("max_disk_bytes", "storage.max_disk (0: no bound).", double(g.max_disk));
    s.gauge("storage_spool_bytes", "Bytes in the spool, of every table.", double(g.spool_bytes));
    s.counter("spool_set_aside_total",
              "Spool files that could not be read (renamed NAME.unreadable, not sent).",
              double(g.spool_set_aside));
    s.counter("wal_syncs_total", "fdatasync calls on the write-ahead logs.", double(g.syncs));
    s.counter("wal_sync_seconds_total", "Time spent in those fdatasync calls.", g.sync_seconds);
    s.gauge("wal_failed_logs",
            "Write-ahead logs whose last write or sync failed (their durable requests "
            "answer 503 until one succeeds).",
            double(g.failed_logs.size()));
    s.gauge("dead_letter_rows", "Rows in dead-letter files.", double(g.dead_letter_rows));
    s.gauge("dead_letter_bytes", "Bytes of dead-letter files.", double(g.dead_letter_bytes));
    s.counter("replay_damaged_records_total", "Damaged log records skipped at start.",
              double(g.replay_damaged));
    s.counter("replay_torn_bytes_total", "Bytes cut from torn log tails at start.",
              double(g.replay_torn_bytes));
    s.counter("replay_unreadable_segments_total",
              "Log segments that could not be read at start (set aside, not replayed).",
              double(g.replay_unreadable_segments));
}

}  // namespace

std::string render_metrics_prometheus(const GatewaySnapshot& g, const ClickHouseUp& clickhouse) {
    std::vector<MetricFamily> out;
    add_table_families(g, out);
    const Singles singles{out};
    add_gateway_families(g, clickhouse, singles);
    add_auth_families(g, singles);
    if (g.has_storage) add_storage_families(g, singles);
    return prometheus::TextSerializer().Serialize(out);
}

}  // namespace chgate::metrics
