#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "batch/Strategy.hpp"
#include "batch/TableStats.hpp"
#include "core/Clock.hpp"

namespace chgate::batch {
class BatchManager;
class MemoryBudget;
}  // namespace chgate::batch
namespace chgate::store {
class Storage;
}

namespace chgate::core {
class RateWindow;
}

namespace chgate::metrics {

/// One shard's part of a table with shard_by.
struct ShardSnapshot {
    std::uint32_t shard = 0;  ///< from 1, in clickhouse.cluster.shards' order
    std::uint64_t rows_accepted = 0;
    std::uint64_t batches_inserted = 0;
    std::uint64_t rows_inserted = 0;
    std::uint64_t failed_attempts = 0;
    std::uint64_t rows_spooled = 0;
    bool held = false;  ///< a buffer of the shard is held
};

/// Plain values copied from one table's counters at one moment.
struct TableSnapshot {
    std::string name;
    std::string strategy;
    std::string compression;
    std::string ack;
    int priority = 0;
    int retry_attempts = 0;
    batch::Thresholds thresholds;
    std::uint64_t max_memory = 0;
    std::uint64_t memory_bytes = 0;

    batch::TableCounts counts;  ///< every counter of batch::TableStats, copied
    bool held = false;
    std::string held_reason;
    std::int64_t held_since_unix_ms = 0;
    std::int64_t oldest_pending_age_ms = 0;  ///< the oldest unflushed event, 0 when none
    std::int64_t send_lag_ms = 0;            ///< the oldest sealed batch's wait, 0 when none
    std::uint64_t spool_batches = 0, spool_rows = 0, spool_bytes = 0;  ///< in the spool now
    std::vector<ShardSnapshot> shards;  ///< with shard_by; empty otherwise
};

struct GatewaySnapshot {
    bool enabled = true;
    std::uint64_t memory_bytes = 0;
    std::uint64_t max_memory = 0;
    double events_per_second = 0;
    std::vector<TableSnapshot> tables;

    // storage.*
    bool has_storage = false;
    std::string storage_dir;
    std::string fsync;
    std::uint64_t disk_bytes = 0;
    std::uint64_t syncs = 0;
    double sync_seconds = 0;  ///< spent in those syncs
    bool ready = true;        ///< false while the logs are replayed
    std::uint64_t dead_letter_rows = 0, dead_letter_bytes = 0;
    /// Logs that failed a write or sync: the table, and why.
    std::vector<std::pair<std::string, std::string>> failed_logs;
    std::uint64_t spool_bytes = 0, max_disk = 0;
    std::uint64_t spool_set_aside = 0;  ///< unreadable spool files renamed NAME.unreadable
    std::uint64_t replay_logs = 0, replay_rows = 0, replay_batches = 0, replay_damaged = 0,
                  replay_torn_bytes = 0, replay_unreadable_segments = 0;

    // server.*: connections and request bodies, filled in by the HTTP layer.
    std::uint64_t connections = 0, max_connections = 0, connections_refused = 0,
                  connections_denied = 0;
    std::uint64_t inflight_bytes = 0, max_inflight_bytes = 0;

    // auth.*: requests per token name, and those with no valid token.
    struct TokenCounts {
        std::string name;
        std::uint64_t requests = 0, forbidden = 0, rate_limited = 0;
    };
    std::vector<TokenCounts> tokens;
    std::uint64_t unauthorized = 0;

    // reloads.*: configuration reloads (SIGHUP, POST /admin/reload) since the start.
    std::uint64_t reloads_applied = 0, reloads_failed = 0;
    bool last_reload_ok = true;            ///< true before the first reload
    std::int64_t last_reload_unix_ms = 0;  ///< 0 before the first reload

    // readiness.*: the thresholds /readyz applies, for alert rules to compare with.
    std::int64_t readiness_max_lag_ms = 0;        ///< 0: never
    std::uint64_t readiness_max_spool_bytes = 0;  ///< 0: never
};

/// Reads every counter once. Safe while traffic flows.
GatewaySnapshot take_snapshot(const batch::BatchManager& manager, const batch::MemoryBudget& budget,
                              const core::RateWindow& inserted, const store::Storage* storage,
                              TimePoint now);

}  // namespace chgate::metrics
