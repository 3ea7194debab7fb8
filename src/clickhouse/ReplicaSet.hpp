#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "clickhouse/CircuitBreaker.hpp"
#include "clickhouse/ServerMonitor.hpp"
#include "config/Config.hpp"
#include "util/Mutex.hpp"

namespace chgate::clickhouse {

/// One ClickHouse server chgate can insert into.
struct Replica {
    Replica(const config::ClickHouseConfig& cfg, const std::string& url);
    const std::string url;
    ServerMonitor monitor;  ///< its probe: reachability and capabilities
    CircuitBreaker breaker;
};

/// Servers that hold the same data: the replicas of clickhouse.urls, or of one
/// shard of clickhouse.cluster. Each INSERT goes to the next replica, in
/// turn, that answers its probe and whose circuit breaker admits it; when none
/// does, to one whose breaker admits it anyway (its probe may be stale); when
/// every breaker is open, nowhere.
class ReplicaSet {
  public:
    explicit ReplicaSet(std::vector<std::shared_ptr<Replica>> replicas);

    /// A replica to send to now, or nullptr.
    Replica* pick(CircuitBreaker::Clock::time_point now);
    /// How an attempt on `r` went: `server_trouble` for network errors, 5xx
    /// and the like, which count against its breaker.
    static void report(Replica& r, bool server_trouble, bool transport_failed,
                       const std::string& error);

    bool any_reachable() const;
    /// Whether a replica's probe found no insert_distributed_sync: then an
    /// INSERT into a Distributed table may end before the shards have the rows.
    bool lacks_distributed_sync() const;
    const std::vector<std::shared_ptr<Replica>>& replicas() const { return replicas_; }

  private:
    std::vector<std::shared_ptr<Replica>> replicas_;
    std::atomic<std::size_t> next_{0};
};

/// Every ClickHouse server chgate writes to: the replica set of tables without
/// shard_by (clickhouse.urls, or every replica of the cluster), and one per
/// shard of clickhouse.cluster. A server in several sets is one Replica: one
/// probe, one circuit breaker.
///
/// The shards may change while chgate runs (a reload, or discover): update()
/// swaps the sets. A caller keeps the set it got for one attempt.
class Topology {
  public:
    explicit Topology(const config::ClickHouseConfig& cfg);
    ~Topology();
    Topology(const Topology&) = delete;
    Topology& operator=(const Topology&) = delete;

    /// Starts and stops every server's probe.
    void start();
    void stop();

    /// The cluster's shards are now `shards` (at most core::kMaxShards). A
    /// server that stays keeps its probe and breaker; one gone stops being
    /// probed; a new one is probed from start_new_probes() (which waits for
    /// it: call it once rows are placed by the new shards). A shard past the
    /// new count keeps its last replicas for the rows already placed on it.
    /// Returns whether anything changed.
    bool update(const std::vector<config::ShardConfig>& shards);
    void start_new_probes();

    /// Shard `shard` (from 1) of the cluster, or one it had; 0: the set of
    /// tables without shard_by. Null for a shard it never had.
    std::shared_ptr<ReplicaSet> replicas_for(std::uint32_t shard) const;
    std::shared_ptr<const ReplicaSet> unsharded() const;
    /// The cluster's shards now.
    std::size_t shard_count() const;
    std::vector<config::ShardConfig> shards() const;
    /// Every server in use once, in the order the configuration names them.
    std::vector<std::shared_ptr<Replica>> servers() const;
    std::size_t server_count() const;
    bool any_reachable() const;

  private:
    const config::ClickHouseConfig cfg_;
    mutable Mutex mutex_;
    bool started_ GUARDED_BY(mutex_) = false;
    std::vector<std::shared_ptr<Replica>> servers_ GUARDED_BY(mutex_);
    std::shared_ptr<ReplicaSet> unsharded_ GUARDED_BY(mutex_);
    // The shards now, then those the cluster had past its current count.
    std::vector<std::shared_ptr<ReplicaSet>> shards_ GUARDED_BY(mutex_);
    std::vector<config::ShardConfig> current_ GUARDED_BY(mutex_);
    // Servers new since the last start_new_probes().
    std::vector<std::shared_ptr<Replica>> unprobed_ GUARDED_BY(mutex_);
};

}  // namespace chgate::clickhouse
