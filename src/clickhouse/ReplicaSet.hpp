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

/// The replicas of clickhouse.urls (or the one clickhouse.url). Each INSERT
/// goes to the next replica, in turn, that answers its probe and whose circuit
/// breaker admits it; when none does, to one whose breaker admits it anyway (its
/// probe may be stale); when every breaker is open, nowhere.
class ReplicaSet {
  public:
    explicit ReplicaSet(const config::ClickHouseConfig& cfg);

    void start();
    void stop();

    /// A replica to send to now, or nullptr.
    Replica* pick(CircuitBreaker::Clock::time_point now);
    /// How an attempt on `r` went: `server_trouble` for network errors, 5xx
    /// and the like, which count against its breaker.
    void report(Replica& r, bool server_trouble, bool transport_failed, const std::string& error);

    bool any_reachable() const;
    /// Whether a replica's probe found no insert_distributed_sync: then an
    /// INSERT into a Distributed table may end before the shards have the rows.
    bool lacks_distributed_sync() const;
    const std::vector<std::unique_ptr<Replica>>& replicas() const { return replicas_; }

  private:
    std::vector<std::unique_ptr<Replica>> replicas_;
    std::atomic<std::size_t> next_{0};
};

}  // namespace chgate::clickhouse
