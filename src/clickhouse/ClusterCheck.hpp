#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::clickhouse {

class Topology;

/// One replica as system.clusters describes it.
struct DiscoveredReplica {
    std::string host_name;
    std::string host_address;
    std::uint16_t port = 0;  ///< its TCP (native) port, not HTTP
    bool operator==(const DiscoveredReplica&) const = default;
};

/// One shard as system.clusters describes it.
struct DiscoveredShard {
    std::uint32_t weight = 0;
    std::vector<DiscoveredReplica> hosts;
};

/// The SQL that reads cluster `name` (an identifier) from system.clusters.
std::string system_clusters_query(const std::string& name);

/// Parses that query's JSONCompact answer: the shards by shard_num, each with
/// its weight and replicas' hosts. nullopt, with `error`, for an answer of
/// another shape.
std::optional<std::vector<DiscoveredShard>> parse_system_clusters(std::string_view json,
                                                                  std::string& error);

/// How clickhouse.cluster.shards differs from what system.clusters says (no
/// shards: the cluster is unknown there); empty when they match. A replica
/// matches by its URL's host, against host_name or host_address.
std::vector<std::string> compare_cluster(const std::vector<config::ShardConfig>& configured,
                                         const std::vector<DiscoveredShard>& discovered);

/// The shards chgate sends to, from what system.clusters says: each replica's
/// URL is the first of `cfg.urls`' scheme, the replica's host_name, and the
/// HTTP port for its TCP port in cfg.http_ports, else cfg.http_port, else the
/// first url's. nullopt, with `error`, for a cluster chgate cannot route by
/// (no shards, more than kMaxShards, no weight, two servers at one URL).
std::optional<std::vector<config::ShardConfig>> shards_from(
    const std::vector<DiscoveredShard>& discovered, const config::ClickHouseConfig& cfg,
    std::string& error);

/// clickhouse.cluster.discover: reads the cluster from system.clusters on a
/// server that answers, at start, at each reload (refresh()) and every minute.
///
/// With clickhouse.cluster.shards, it compares them with the shards chgate
/// routes by. A difference means chgate places rows on other shards than the
/// Distributed table would: it is logged (once per change) and shown in
/// /metrics; a reload with a corrected list applies it.
///
/// Without, the cluster it reads is the one chgate routes by: each change is
/// handed to `apply`.
class ClusterCheck {
  public:
    using Apply = std::function<void(const std::vector<config::ShardConfig>&)>;
    ClusterCheck(config::ClickHouseConfig cfg, const Topology& topology, Apply apply);

    /// Without listed shards, the first read is made before this returns
    /// (each server given a few seconds), so that rows are placed from the start.
    void start();
    void stop() { task_.stop(); }
    /// Reads the cluster again now, on the task's thread.
    void refresh();

    struct State {
        bool checked = false;  ///< a server has answered
        std::vector<std::string> differences;
        std::string error;   ///< why the last check could not run, if it could not
        std::string server;  ///< which server answered the last check
        std::chrono::system_clock::time_point at{};
    };
    State state() const;

  private:
    /// Returns whether a server answered.
    bool check();

    const config::ClickHouseConfig cfg_;
    const Topology& topology_;
    const Apply apply_;
    mutable Mutex mutex_;
    State state_ GUARDED_BY(mutex_);
    PeriodicTask task_;
};

}  // namespace chgate::clickhouse
