#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "batch/BatchManager.hpp"
#include "batch/MemoryBudget.hpp"
#include "batch/Quarantine.hpp"
#include "batch/QuarantineReplay.hpp"
#include "batch/SpoolReplayer.hpp"
#include "clickhouse/ClusterCheck.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "config/ConfigDiff.hpp"
#include "config/ConfigLoader.hpp"
#include "core/RateWindow.hpp"
#include "flush/FlushQueue.hpp"
#include "flush/Flusher.hpp"
#include "http/AdminHandler.hpp"
#include "http/Router.hpp"
#include "http/Server.hpp"
#include "schema/RowBinaryEncoders.hpp"
#include "schema/SchemaCache.hpp"
#include "schema/SchemaEvolver.hpp"
#include "schema/TableCreator.hpp"
#include "store/Storage.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"
#include "util/Progress.hpp"

namespace chgate::app {

/// Wires the parts together and runs them: start in dependency order, wait for
/// a signal, then stop in the order that loses nothing (stop accepting, seal
/// the buffers, finish the inserts).
class App {
  public:
    /// `config_path` is read again by reload().
    App(config::LoadedConfig loaded, std::string config_path);

    /// Blocks SIGINT, SIGTERM and SIGHUP in every thread (call before any
    /// thread starts), so only run() receives them.
    static void block_signals();

    /// Runs until SIGTERM or SIGINT; returns the process exit status.
    int run();

    /// Reads the configuration file again and applies what can change while
    /// chgate runs: the tables' settings (batching.tables, batching.defaults),
    /// batching.max_memory and log.level. Other changes are listed as needing
    /// a restart, and an invalid file changes nothing. For SIGHUP and POST
    /// /admin/reload; any thread.
    config::ReloadReport reload();

    /// POST /admin/drain: ingest answers 503 from now on; waits up to
    /// `timeout` until everything accepted (buffers, queue, log replay, spool)
    /// is in ClickHouse, then stops the process (exit 0). What is left if the
    /// timeout came first; chgate goes on refusing events then.
    http::DrainReport drain(std::chrono::milliseconds timeout);

  private:
    /// Says what starts: tables, ClickHouse, storage, warnings, open doors.
    void log_start() const;
    /// Binds, then starts every thread; on a failure stops those started.
    void start();
    /// The threads, in dependency order; throws on the first that fails.
    void start_threads();
    int stop();
    /// What a drain still waits for.
    http::DrainReport left_to_drain() const;
    /// The cluster's shards are now `shards` (a reload, or discover): the
    /// servers, then the placement of new rows, follow.
    void apply_shards(const std::vector<config::ShardConfig>& shards, const char* why);
    /// How the schema cache reads system.columns: from a server of the
    /// replica set of tables without shard_by, one that answers first.
    /// Moves dead letters of tables with on_invalid: quarantine into their
    /// quarantine tables (on its own thread).
    void move_dead_letters();
    /// POST /admin/quarantine/{table}/replay, on the admin thread.
    batch::QuarantineReplayResult replay_quarantine(batch::Table& table,
                                                    const batch::QuarantineFilter& filter,
                                                    const std::atomic<bool>& stop);
    /// Queries to the first server that answers; unqualified names in
    /// `database` (clickhouse.create_tables' statements), or the user's default.
    schema::SchemaCache::Query schema_query(std::string database = {});
    /// For the evolver: a query to one server, or to any that answers.
    schema::SchemaEvolver::Query server_query();
    /// A column change ended: the tables that insert into `key` count it.
    void on_column_change(const schema::SchemaEvolver::Key& key, bool added);

    const config::ConfigPtr config_;
    const std::vector<std::string> warnings_;
    const std::string config_path_;
    Mutex reload_mutex_;                       // one reload at a time
    Mutex shards_mutex_;                       // one change of the cluster's shards at a time
    std::unique_ptr<store::Storage> storage_;  // first: the buffers log into it
    ProgressBoard progress_;  // long operations, shown by /readyz; outlives all that register
    core::RateWindow inserted_rate_;
    batch::MemoryBudget budget_;
    flush::FlushQueue queue_;
    clickhouse::Topology replicas_;                            // every server, by shard
    std::unique_ptr<clickhouse::ClusterCheck> cluster_check_;  // with clickhouse.cluster.discover
    std::unique_ptr<schema::SchemaCache> schemas_;             // each table's columns
    std::unique_ptr<schema::TableCreator> creator_;            // with clickhouse.create_tables
    std::unique_ptr<schema::SchemaEvolver> evolver_;           // schema_evolution: add_columns
    std::unique_ptr<schema::RowBinaryEncoders> encoders_;      // insert_format: rowbinary
    std::unique_ptr<batch::Quarantine> quarantine_;            // on_invalid: quarantine
    PeriodicTask dead_letter_mover_;                           // dead letters into quarantine
    batch::BatchManager manager_;
    flush::Flusher flusher_;
    batch::SpoolReplayer spool_replayer_;
    http::Router router_;
    http::Server server_;
    std::thread replay_;
    std::atomic<bool> stop_replay_{false};
    std::atomic<bool> stopping_{false};  // stop() has begun: a drain in progress ends
};

}  // namespace chgate::app
