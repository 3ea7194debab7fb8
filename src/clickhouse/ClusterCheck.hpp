#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::clickhouse {

class Topology;

/// One shard as system.clusters describes it.
struct DiscoveredShard {
    std::uint32_t weight = 0;
    /// Each replica's host_name and host_address.
    std::vector<std::pair<std::string, std::string>> hosts;
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

/// clickhouse.cluster.discover: reads the cluster from system.clusters on a
/// server that answers, at start and every minute, and compares it with the
/// shards chgate routes by. A difference means chgate places rows on other
/// shards than the Distributed table would: it is logged (once per change)
/// and shown in /metrics; it takes a restart with a corrected list to apply.
class ClusterCheck {
  public:
    ClusterCheck(config::ClickHouseConfig cfg, const Topology& topology);

    void start();
    void stop() { task_.stop(); }

    struct State {
        bool checked = false;  ///< a server has answered
        std::vector<std::string> differences;
        std::string error;   ///< why the last check could not run, if it could not
        std::string server;  ///< which server answered the last check
        std::chrono::system_clock::time_point at{};
    };
    State state() const;

  private:
    void check();

    const config::ClickHouseConfig cfg_;
    const Topology& topology_;
    mutable Mutex mutex_;
    State state_ GUARDED_BY(mutex_);
    PeriodicTask task_;
};

}  // namespace chgate::clickhouse
