#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "batch/MemoryBudget.hpp"
#include "batch/TableStats.hpp"
#include "config/Config.hpp"
#include "core/Clock.hpp"
#include "core/RateWindow.hpp"
#include "core/ShardBy.hpp"
#include "core/ShardSlots.hpp"
#include "util/Mutex.hpp"

namespace chgate::batch {

/// What a reservation against the quotas came to.
enum class Admission { ok, table_full, gateway_full, too_large, disk_full };

/// A table with shard_by: how its rows pick a shard of clickhouse.cluster,
/// and the table they go into there. `by` and `local_table` are fixed for the
/// table's life (a reload that changes them waits for a restart); `slots`
/// follow the cluster's shards and weights (Table::reshard).
struct Sharding {
    core::ShardBy by;
    /// Empty while the shards are unknown (discover has had no answer yet).
    std::optional<core::ShardSlots> slots;
    std::string local_table;
    std::size_t shards() const { return slots ? slots->shards() : 0; }
};

/// One shard's part of a sharded table's counters (tables.{t}.shards[i] in
/// /metrics).
struct ShardStats {
    Counter rows_accepted{0};
    Counter batches_inserted{0};
    Counter rows_inserted{0};
    Counter failed_attempts{0};
    Counter rows_spooled{0};
};

/// One ClickHouse table as chgate serves it: its settings, its memory quota and
/// its counters. Several buffers (one per column list) may feed one table.
/// Each observable event is one method that both counts and logs.
class Table {
  public:
    /// `sharding`: null for a table without shard_by.
    Table(std::string name, std::string database, std::string table, config::TableConfig cfg,
          MemoryBudget& gateway, core::RateWindow& inserted_rate,
          std::shared_ptr<const Sharding> sharding = nullptr);

    const std::string& name() const { return name_; }  ///< as clients write it
    const std::string& database() const { return database_; }
    const std::string& table() const { return table_; }
    /// The table's settings as they are now; a reload may replace them, so
    /// keep the pointer, not a reference into it, while using them.
    std::shared_ptr<const config::TableConfig> config() const { return cfg_.load(); }
    /// A config reload: new settings, and the quota follows max_memory.
    void retune(config::TableConfig cfg);
    const batch::TableStats& stats() const { return stats_; }
    /// Null unless the table has shard_by. A change of the cluster's shards
    /// replaces it: keep the pointer while using it.
    std::shared_ptr<const Sharding> sharding() const { return sharding_.load(); }
    /// The cluster's shards or weights changed: rows from now on are placed
    /// by `slots`. Rows already placed stay on their shards. The table must
    /// be sharded.
    void reshard(std::optional<core::ShardSlots> slots);
    /// The table clients' rows are inserted into: the table itself, or its
    /// shards' local_table. A copy: a change of shards may replace the
    /// Sharding meanwhile.
    std::string insert_table() const;
    /// Shard `shard`'s counters (from 1 to kMaxShards); the table must be sharded.
    ShardStats& shard_stats(std::uint32_t shard) const { return shard_stats_[shard - 1]; }
    /// The most shards the table has had: the ones with counters to show.
    std::uint32_t shards_seen() const { return shards_seen_.load(); }
    std::uint64_t held_bytes() const { return quota_.held(); }

    /// Reserves `bytes` against the table's and the gateway's quotas.
    Admission reserve(std::uint64_t bytes);
    /// Reserves past the quotas: for rows already acknowledged (replay), which
    /// must be held whatever the limits are now.
    void force_reserve(std::uint64_t bytes);
    /// Gives back what a finished (inserted or dropped) batch held.
    void release(std::uint64_t bytes);

    /// `requests`: 1, or 0 for the second and later shards of one request.
    void on_accepted(std::uint64_t rows, std::uint64_t bytes, std::uint64_t requests = 1);
    void on_rejected(Admission why, std::uint64_t bytes);
    /// A request refused at the door: an event does not fit the table's columns.
    void on_invalid();
    /// Rows accepted under schema: check while the table's columns were not known.
    void on_unchecked(std::uint64_t rows);
    /// Rows accepted under schema: coerce with a value rewritten.
    void on_coerced(std::uint64_t rows);
    /// Rows sent to the quarantine table: refused at the door, or by ClickHouse.
    void on_quarantined(bool at_insert, std::uint64_t rows);
    /// schema_evolution: a column was added on every server, or could not be.
    void on_column_change(bool added);
    void on_buffered(std::int64_t rows, std::int64_t bytes);
    void on_sealed(flush::FlushReason reason, std::uint64_t rows, std::uint64_t bytes,
                   TimePoint first_append, TimePoint sealed_at);
    void on_replayed(std::uint64_t rows, std::uint64_t bytes, TimePoint first_append,
                     TimePoint sealed_at);
    void on_inserted(std::uint64_t batch_id, std::uint64_t rows, std::uint64_t bytes,
                     std::uint64_t sent_bytes, milliseconds latency, int attempt, TimePoint now);
    /// `code` (ClickHouse's, 0: none) and `replica` (the server tried) go to
    /// the log line's fields.
    void on_attempt_failed(std::uint64_t batch_id, std::uint64_t rows, int attempt,
                           const std::string& error, milliseconds retry_in, bool will_retry,
                           int code = 0, std::string_view replica = {});
    void on_dropped(std::uint64_t batch_id, std::uint64_t rows, const std::string& why);
    /// A batch out of retries went to the spool on disk.
    void on_spooled(std::uint64_t batch_id, std::uint64_t rows, int attempts,
                    const std::string& error);
    /// ClickHouse refused some rows of a batch: `bad` went to the dead letters
    /// (or, with LogAndContinue, were dropped), `inserted` went in.
    void on_bad_rows(std::uint64_t batch_id, std::uint64_t inserted, std::uint64_t bad,
                     std::uint64_t inserts, bool dead_lettered, const std::string& first_error);
    /// Rows that left the pending state: a finished batch, or the part of a
    /// batch that bisection settled before it was interrupted.
    void on_settled(std::uint64_t rows, std::uint64_t bytes);
    /// A sealed batch is finished (its times were tracked at sealing).
    void on_batch_finished(TimePoint first_append, TimePoint sealed_at);

    // Held: ClickHouse cannot take a buffer's rows (no such table, no access).
    // Holds are per buffer (TableBuffer::hold); the table shows them together.
    struct HoldState {
        bool held = false;
        std::string reason;  ///< of the buffer held longest, named when it has a column list
        std::chrono::system_clock::time_point since{};
        std::size_t buffers = 0;  ///< how many of its buffers are held
    };
    /// A buffer of this table (`label`, see TableBuffer::label) is held, or no longer.
    void on_hold(const std::string& label, const std::string& reason);
    void on_hold_released(const std::string& label);
    HoldState hold_state() const;
    /// ClickHouse said this table, served by default, does not exist: until
    /// `until`, requests for it are refused at once (404) rather than buffered.
    void mark_missing(TimePoint until) { missing_until_.store(until.time_since_epoch().count()); }
    bool missing(TimePoint now) const {
        return now.time_since_epoch().count() < missing_until_.load(std::memory_order_relaxed);
    }

    /// Not in the configuration (removed by a reload, or opened only to
    /// deliver rows accepted earlier) while unknown_tables is reject: new
    /// requests are refused; what it holds is still delivered.
    bool retired() const { return retired_.load(std::memory_order_relaxed); }
    /// In batching.tables (as last loaded), rather than served by default.
    bool configured() const { return configured_.load(std::memory_order_relaxed); }
    void set_configured(bool c) { configured_.store(c, std::memory_order_relaxed); }
    /// The quarantine table of another table (on_invalid: quarantine): it takes
    /// rows from chgate, not from clients, and its own bad rows go to the dead
    /// letters. Set when it is made, before it is shared.
    bool is_quarantine() const { return quarantine_; }
    void set_quarantine() { quarantine_ = true; }
    /// Made on the fly for a client (unknown_tables: defaults), and counted
    /// in batching.max_tables. The batch manager's, under its lock.
    bool counts_toward_max_tables = false;
    void set_retired(bool retired) { retired_.store(retired, std::memory_order_relaxed); }

    /// When the oldest pending (sealed, not finished) batch was sealed, and when
    /// its first row came; TimePoint::max() when none is pending.
    TimePoint oldest_sealed() const;
    TimePoint oldest_pending_event() const;

  private:
    const std::string name_;
    const std::string database_;
    const std::string table_;
    std::atomic<bool> retired_{false};
    bool quarantine_ = false;
    std::atomic<bool> configured_{false};
    std::atomic<std::shared_ptr<const config::TableConfig>> cfg_;
    MemoryBudget quota_;
    MemoryBudget& gateway_;
    core::RateWindow& inserted_rate_;
    batch::TableStats stats_;
    std::atomic<std::shared_ptr<const Sharding>> sharding_;
    const std::unique_ptr<ShardStats[]> shard_stats_;
    std::atomic<std::uint32_t> shards_seen_{0};

    mutable Mutex mutex_;
    // Guarded by mutex_: the times of pending batches, and the hold.
    std::multiset<TimePoint> pending_sealed_ GUARDED_BY(mutex_);
    std::multiset<TimePoint> pending_first_ GUARDED_BY(mutex_);
    struct BufferHold {
        std::string reason;
        std::chrono::system_clock::time_point since;
    };
    std::map<std::string, BufferHold> holds_ GUARDED_BY(mutex_);  // by buffer label
    std::atomic<Clock::rep> missing_until_{0};
};

}  // namespace chgate::batch
