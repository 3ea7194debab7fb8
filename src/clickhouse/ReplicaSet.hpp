#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "clickhouse/CircuitBreaker.hpp"
#include "clickhouse/ServerMonitor.hpp"
#include "config/Config.hpp"

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
class Topology {
  public:
    explicit Topology(const config::ClickHouseConfig& cfg);

    /// Starts and stops every server's probe.
    void start();
    void stop();

    /// Shard `shard` (from 1) of the cluster; 0: the set of tables without shard_by.
    ReplicaSet& replicas_for(std::uint32_t shard) {
        return shard == 0 ? *unsharded_ : *shards_.at(shard - 1);
    }
    const ReplicaSet& replicas_for(std::uint32_t shard) const {
        return shard == 0 ? *unsharded_ : *shards_.at(shard - 1);
    }
    const ReplicaSet& unsharded() const { return *unsharded_; }
    std::size_t shard_count() const { return shards_.size(); }
    /// Every server once, in the order the configuration names them.
    const std::vector<std::shared_ptr<Replica>>& servers() const { return servers_; }
    bool any_reachable() const;

  private:
    std::vector<std::shared_ptr<Replica>> servers_;
    std::unique_ptr<ReplicaSet> unsharded_;
    std::vector<std::unique_ptr<ReplicaSet>> shards_;
};

}  // namespace chgate::clickhouse
