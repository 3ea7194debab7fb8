#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "batch/MemoryBudget.hpp"
#include "batch/Table.hpp"
#include "batch/TableBuffer.hpp"
#include "config/Config.hpp"
#include "core/RateWindow.hpp"
#include "core/TableName.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::flush {
class FlushQueue;
}
namespace chgate::store {
class Storage;
class PendingReplay;
struct ReplayStats;
}  // namespace chgate::store

namespace chgate::batch {

enum class RouteError {
    none,
    bad_name,          ///< not [db.]identifier
    name_too_long,     ///< database and table over core::kMaxQualifiedNameLength
    unknown_table,     ///< not configured, and unknown_tables: reject
    too_many_tables,   ///< batching.max_tables reached
    missing,           ///< served by default, and ClickHouse said lately it has no such table
    too_many_buffers,  ///< the table has batching.max_buffers_per_table column lists
    closing,           ///< the buffer is being closed (idle); a moment later it is made anew
    storage_failed,    ///< its write-ahead log cannot be opened now (no fds, a full disk)
};

struct Route {
    Route(std::shared_ptr<TableBuffer> b = nullptr, RouteError e = RouteError::none,
          std::string d = {})
        : buffer(std::move(b)), error(e), detail(std::move(d)) {}
    std::shared_ptr<TableBuffer> buffer;
    RouteError error = RouteError::none;
    std::string detail;  ///< for storage_failed: why, without paths (for clients)
};

/// Owns every table and buffer: finds (or, with unknown_tables: defaults,
/// creates) the buffer for a request, and runs the timer that seals buffers
/// whose deadline has passed.
class BatchManager {
  public:
    /// `storage` may be null (unit tests): then no table has a write-ahead log.
    BatchManager(config::ConfigPtr config, flush::FlushQueue& queue, MemoryBudget& budget,
                 core::RateWindow& inserted_rate, store::Storage* storage = nullptr);
    ~BatchManager();

    /// The buffer for /v1/events/{name}: "table" or "db.table", all columns.
    Route route(std::string_view name);
    /// The buffer for an INSERT with an optional column list (sorted, unique).
    Route route(const core::TableName& name, const std::vector<std::string>& columns);

    /// The buffer for rows accepted earlier (the spool, dead letters): as
    /// route(), but a table no longer configured is served with the defaults.
    Route route_for_recovery(const core::TableName& name, const std::vector<std::string>& columns) {
        return route_impl(name, columns, true);
    }

    /// Appends rows to a buffer; a batch the strategy seals goes to the flush queue.
    AppendResult append(TableBuffer& buffer, std::string_view body,
                        std::span<const core::RowSlice> rows, TimePoint now,
                        const flush::CommitWaiterPtr& waiter = nullptr);

    /// Sends again what the write-ahead logs hold that ClickHouse has not
    /// committed: every log on disk, including those of tables no longer
    /// configured. Holds one batch in memory at a time beyond the quotas'
    /// room, waiting for inserts to make room. Returns early if `stop` is set.
    void replay(const std::atomic<bool>& stop);
    /// Whether batching.max_memory is all in use.
    bool memory_full() const { return budget_.held() >= budget_.limit(); }
    /// False until replay() has finished: ingest answers 503 meanwhile.
    bool ready() const { return ready_.load(); }
    void set_ready() { ready_.store(true); }

    /// What replay found, summed over every log.
    struct ReplayTotals {
        std::uint64_t logs = 0, records = 0, rows = 0, batches = 0, damaged = 0, torn_bytes = 0,
                      unreadable_segments = 0;
    };
    ReplayTotals replay_totals() const;

    void start();
    /// Stops the timer; buffers keep their rows until seal_all().
    void stop();
    /// Seals every non-empty buffer into the flush queue (for shutdown).
    void seal_all(flush::FlushReason reason);
    /// Seals one buffer into the flush queue, if it holds rows.
    void seal(TableBuffer& buffer, flush::FlushReason reason);
    /// Seals the open buffers of `database`.`table` (every table when both are
    /// empty) and queues the batches. Returns {batches, rows} sealed.
    std::pair<std::uint64_t, std::uint64_t> seal_table(std::string_view database,
                                                       std::string_view table,
                                                       flush::FlushReason reason);

    /// Closes buffers of column lists and of tables served by default that
    /// have been empty and unused for batching.idle_buffer_ttl, and that no
    /// request, batch or replay holds: their logs are removed, and a table
    /// served by default with no buffer left goes (its max_tables slot too).
    /// Returns how many buffers were closed. Called by the timer.
    std::size_t close_idle_buffers(TimePoint now);

    std::vector<std::shared_ptr<Table>> tables() const;
    std::vector<std::shared_ptr<TableBuffer>> buffers() const;
    /// The tables whose write-ahead log failed its last write or sync, and why.
    std::vector<std::pair<std::string, std::string>> failed_logs() const;
    /// The configuration chgate started with (server, storage, ClickHouse...).
    const config::Config& config() const { return *config_; }

    /// What a configuration reload did to the tables.
    struct RetuneResult {
        std::vector<std::string> retuned;         ///< tables whose settings changed
        std::vector<std::string> retired;         ///< no longer configured: new requests refused
        std::vector<std::string> restart_needed;  ///< what applies only at a restart, and why
    };
    /// A configuration reload: the tables, their defaults and batching.max_memory
    /// come from `next` from now on. Every table is retuned in place, keeping
    /// its rows; a table whose new limits its open rows already reach is
    /// sealed. Switching a table between ack buffered and a logged level needs
    /// a restart (the log is opened with the buffer): reported, not applied.
    RetuneResult retune(const config::ConfigPtr& next, TimePoint now);
    /// The configuration in force: config() with the last reload's tables,
    /// defaults, batching.max_memory and log.level.
    config::ConfigPtr live_config() const;

  private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    using BufferMap =
        std::unordered_map<std::string, std::shared_ptr<TableBuffer>, StringHash, std::equal_to<>>;

    /// `created` is set when the table was made by this call.
    std::shared_ptr<Table> find_or_create_table(const std::string& database,
                                                const std::string& table, RouteError& error,
                                                bool& created, bool force = false) REQUIRES(mutex_);
    Route route_impl(const core::TableName& name, const std::vector<std::string>& columns,
                     bool force);
    void enqueue_replayed(TableBuffer& buffer, store::ReplayedBatch&& replayed,
                          const std::atomic<bool>& stop);
    /// One run of the seal timer: seals the buffers whose deadline has
    /// passed, now and then closes idle ones; returns when to run again.
    TimePoint seal_due();

    const config::ConfigPtr config_;
    config::ConfigPtr live_ GUARDED_BY(mutex_);  // the tables' settings, as last reloaded
    flush::FlushQueue& queue_;
    MemoryBudget& budget_;
    core::RateWindow& inserted_rate_;
    store::Storage* const storage_;
    std::atomic<bool> ready_{false};

    mutable SharedMutex mutex_;
    // Guarded by mutex_. Keys: tables_ by "db.table"; buffers_ by "db.table" or
    // "db.table(a,b)"; by_name_ by the name a client wrote in /v1/events/{name}.
    std::map<std::string, std::shared_ptr<Table>> tables_ GUARDED_BY(mutex_);
    BufferMap buffers_ GUARDED_BY(mutex_);
    BufferMap by_name_ GUARDED_BY(mutex_);
    std::size_t dynamic_tables_ GUARDED_BY(mutex_) = 0;
    // Column lists (buffers besides the plain one) per table.
    std::unordered_map<const Table*, std::size_t> column_lists_ GUARDED_BY(mutex_);
    // Keys of buffers being closed: their logs are still being removed.
    std::set<std::string> closing_ GUARDED_BY(mutex_);
    // Logs opened with records to send again, until replay() runs them.
    std::vector<std::pair<std::shared_ptr<TableBuffer>, std::unique_ptr<store::PendingReplay>>>
        pending_replays_ GUARDED_BY(mutex_);
    ReplayTotals replay_totals_;

    // The seal timer. An appender whose buffer gains an earlier deadline
    // wakes it (lock-free when it is already due by then).
    PeriodicTask timer_;
    TimePoint next_idle_check_{};  // the timer's own
};

}  // namespace chgate::batch
