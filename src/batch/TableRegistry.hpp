#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "batch/MemoryBudget.hpp"
#include "batch/Table.hpp"
#include "batch/TableBuffer.hpp"
#include "config/Config.hpp"
#include "core/RateWindow.hpp"
#include "core/TableName.hpp"
#include "util/Mutex.hpp"

namespace chgate::store {
class Storage;
class PendingReplay;
struct LogTarget;
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
    no_shards,         ///< shard_by, and the cluster's shards are not known yet (discover)
};

/// The buffers of one table and column list, one per shard (shard i at i-1),
/// with the sharding that places rows among them: taken together, so that a
/// change of the cluster's shards never pairs one with the other's count.
struct ShardBuffers {
    std::shared_ptr<const Sharding> sharding;
    std::vector<std::shared_ptr<TableBuffer>> buffers;
};

struct Route {
    Route(std::shared_ptr<TableBuffer> b = nullptr, RouteError e = RouteError::none,
          std::string d = {})
        : buffer(std::move(b)), error(e), detail(std::move(d)) {}
    /// The buffer; for a table with shard_by, its first shard's, which stands
    /// for the table (its settings, quota and rights).
    std::shared_ptr<TableBuffer> buffer;
    RouteError error = RouteError::none;
    std::string detail;  ///< for storage_failed: why, without paths (for clients)
    /// For a client's request to a table with shard_by: every shard's buffer.
    std::shared_ptr<const ShardBuffers> shards;
};

/// Why a buffer is wanted: a client's request, or rows accepted earlier
/// (the write-ahead logs, the spool, dead letters) that must be delivered.
enum class RouteFor {
    client,
    recovery,
    quarantine,  ///< rows for a table's quarantine table (on_invalid: quarantine)
};

/// Every table and buffer, by name: finds (or, with unknown_tables: defaults,
/// creates) the buffer for a request, applies reloads to the tables, and
/// closes buffers left idle.
class TableRegistry {
  public:
    /// `storage` may be null (unit tests): then no table has a write-ahead log.
    TableRegistry(config::ConfigPtr startup, MemoryBudget& budget, core::RateWindow& inserted_rate,
                  store::Storage* storage);

    /// The buffer for /v1/events/{name}: "table" or "db.table", all columns.
    Route route(std::string_view name);
    /// The buffer for an INSERT with an optional column list (sorted, unique).
    Route route(const core::TableName& name, const std::vector<std::string>& columns);
    /// The buffer for rows accepted earlier (a log, the spool, dead letters):
    /// as route(), but a table no longer configured (or refused now) is served
    /// with the defaults. Rows of a shard go to that shard's buffer; if the
    /// table has no such shard now, to the table itself (its Distributed
    /// table, which shards them as ClickHouse does).
    Route route_for_recovery(const store::LogTarget& target);
    /// The buffer of `source`'s quarantine table (its quarantine_table, in
    /// its database), made if need be. A quarantine table checks nothing at
    /// the door, quarantines nothing (its own bad rows go to the dead
    /// letters), is not sharded, and does not count toward max_tables.
    Route route_quarantine(const Table& source);

    /// Told of each table made from now on (under the registry's lock: keep
    /// it short, and do not call back). Set before requests or replay start.
    void on_new_table(std::function<void(const Table&)> hook) { on_new_table_ = std::move(hook); }

    /// False until the write-ahead logs have been replayed: ingest answers
    /// 503 meanwhile, and idle buffers are not closed (replay holds some).
    bool ready() const { return ready_.load(); }
    void set_ready() { ready_.store(true); }

    /// Closes buffers of column lists and of tables served by default that
    /// have been empty and unused for batching.idle_buffer_ttl, and that no
    /// request, batch or replay holds: their logs are removed, and a table
    /// served by default with no buffer left goes (its max_tables slot too).
    /// Returns how many buffers were closed.
    std::size_t close_idle_buffers(TimePoint now);

    std::vector<std::shared_ptr<Table>> tables() const;
    /// The table `name` ("table" or "db.table") if chgate has it now; never
    /// makes one. Null for a bad name too.
    std::shared_ptr<Table> find_table(std::string_view name) const;
    std::vector<std::shared_ptr<TableBuffer>> buffers() const;
    /// The tables whose write-ahead log failed its last write or sync, and why.
    std::vector<std::pair<std::string, std::string>> failed_logs() const;

    /// The configuration chgate started with: server, storage, ClickHouse...
    /// A reload does not change it.
    const config::Config& startup_config() const { return *startup_; }
    /// The configuration in force: startup_config() with the last reload's
    /// live keys (tables, defaults, batching.max_memory, log, auth...).
    config::ConfigPtr live_config() const;

    /// What a configuration reload did to the tables.
    struct RetuneResult {
        std::vector<std::string> retuned;         ///< tables whose settings changed
        std::vector<std::string> retired;         ///< no longer configured: new requests refused
        std::vector<std::string> restart_needed;  ///< what applies only at a restart, and why
        std::vector<flush::Batch> sealed;  ///< from buffers whose new limits their rows reach
    };
    /// A configuration reload: the tables and their defaults come from `next`
    /// from now on. Every table is retuned in place, keeping its rows; a
    /// buffer whose new limits its open rows already reach is sealed.
    /// Switching a table between ack buffered and a logged level needs a
    /// restart (the log is opened with the buffer): reported, not applied.
    RetuneResult retune(const config::ConfigPtr& next, TimePoint now);

    /// The cluster's shards or weights changed (a reload, or discover):
    /// every table with shard_by places rows by `weights` from now on (empty:
    /// the shards are unknown, and its requests are refused). Rows already
    /// placed stay in their shards' buffers and go to those shards.
    void reshard(const std::vector<std::uint32_t>& weights);

    /// The logs opened with records to send again, taken once by the replayer.
    std::vector<std::pair<std::shared_ptr<TableBuffer>, std::unique_ptr<store::PendingReplay>>>
    take_pending_replays();

  private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    using BufferMap =
        std::unordered_map<std::string, std::shared_ptr<TableBuffer>, StringHash, std::equal_to<>>;

    /// Buffers being closed, with their keys in buffers_.
    using Closing = std::vector<std::pair<std::string, std::shared_ptr<TableBuffer>>>;

    /// Takes out of the maps the buffers idle past batching.idle_buffer_ttl
    /// that nothing but the maps holds; their keys go into closing_.
    Closing take_idle_buffers(TimePoint now) REQUIRES(mutex_);
    /// A table made on the fly with no buffer left goes, with its slot.
    void drop_tables_without_buffers() REQUIRES(mutex_);
    /// `created` is set when the table was made by this call.
    std::shared_ptr<Table> find_or_create_table(const std::string& database,
                                                const std::string& table, RouteFor why,
                                                RouteError& error, bool& created) REQUIRES(mutex_);
    /// `shard` 0 for a client: the table's buffer, or its shards' for a
    /// table with shard_by. Otherwise (recovery) that one shard's buffer.
    Route open_buffer(const core::TableName& name, const std::vector<std::string>& columns,
                      RouteFor why, std::uint32_t shard = 0);
    /// Finds or makes the buffer `key` of (table, columns, shard).
    Route open_one(const std::shared_ptr<Table>& table, const std::string& key,
                   const core::TableName& target, const std::vector<std::string>& columns,
                   RouteFor why, bool created, std::uint32_t shard) REQUIRES(mutex_);
    /// Every shard's buffer of a table with shard_by, as one route.
    Route open_shards(const std::shared_ptr<Table>& table, const std::string& key,
                      const core::TableName& target, const std::vector<std::string>& columns,
                      RouteFor why, bool created) REQUIRES(mutex_);
    /// Opens the table's write-ahead log for a new buffer, if it logs; on a
    /// failure, forgets a table made just now and says why.
    Route open_log(const std::shared_ptr<Table>& table, const store::LogTarget& target,
                   RouteFor why, bool created, std::shared_ptr<store::Wal>& wal,
                   std::unique_ptr<store::PendingReplay>& replay) REQUIRES(mutex_);
    /// How `cfg`'s rows pick a shard among the cluster's shards now; null
    /// without shard_by.
    std::shared_ptr<const Sharding> sharding_of(const std::string& name,
                                                const config::TableConfig& cfg) const
        REQUIRES(mutex_);

    const config::ConfigPtr startup_;
    MemoryBudget& budget_;
    core::RateWindow& inserted_rate_;
    store::Storage* const storage_;
    std::atomic<bool> ready_{false};
    std::function<void(const Table&)> on_new_table_;

    mutable SharedMutex mutex_;
    // The cluster's shard weights now: the startup list, then reshard()'s.
    std::vector<std::uint32_t> weights_ GUARDED_BY(mutex_);
    config::ConfigPtr live_ GUARDED_BY(mutex_);
    // Keys: tables_ by "db.table"; buffers_ by "db.table" or "db.table(a,b)";
    // by_name_ by the name a client wrote in /v1/events/{name}.
    std::map<std::string, std::shared_ptr<Table>> tables_ GUARDED_BY(mutex_);
    BufferMap buffers_ GUARDED_BY(mutex_);
    BufferMap by_name_ GUARDED_BY(mutex_);
    // The shards' buffers of tables with shard_by, by the plain buffer's key.
    std::unordered_map<std::string, std::shared_ptr<const ShardBuffers>> shard_routes_
        GUARDED_BY(mutex_);
    std::size_t dynamic_tables_ GUARDED_BY(mutex_) = 0;
    // Column lists (buffers besides the plain one) per table.
    std::unordered_map<const Table*, std::size_t> column_lists_ GUARDED_BY(mutex_);
    // Keys of buffers being closed: their logs are still being removed.
    std::set<std::string> closing_ GUARDED_BY(mutex_);
    // Logs opened with records to send again, until the replayer takes them.
    std::vector<std::pair<std::shared_ptr<TableBuffer>, std::unique_ptr<store::PendingReplay>>>
        pending_replays_ GUARDED_BY(mutex_);
};

}  // namespace chgate::batch
