#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "clickhouse/ServerInfo.hpp"
#include "config/Config.hpp"

namespace chgate::clickhouse {

class HttpClient;

/// Watches ClickHouse from its own thread: a `SELECT 1` every probe_interval
/// for /readyz, and, whenever the server (re)appears, a capability probe
/// (version, settings, zstd bodies, wait_end_of_query). Readers never block on
/// the network: they read the last results.
class ServerMonitor {
  public:
    explicit ServerMonitor(config::ClickHouseConfig cfg);
    ~ServerMonitor();

    /// Probes once synchronously, so the start-up log says what was found, then
    /// keeps probing in the background.
    void start();
    void stop();

    bool reachable() const { return reachable_.load(std::memory_order_relaxed); }
    std::shared_ptr<const ServerInfo> info() const;
    std::string last_error() const;

    /// Flushers report what they see, so readiness reacts before the next probe.
    void report_success();
    void report_unreachable(const std::string& error);

  private:
    void run();
    void probe_once(HttpClient& client);
    bool probe_capabilities(HttpClient& client, std::string& error);
    void set_state(bool reachable, const std::string& error);

    const config::ClickHouseConfig cfg_;
    std::atomic<bool> reachable_{false};

    mutable std::mutex mutex_;
    // Guarded by mutex_.
    std::shared_ptr<const ServerInfo> info_;
    bool probed_ = false;  // capabilities known for the current reachable period
    std::string last_error_;
    bool stopping_ = false;
    std::condition_variable cv_;

    std::thread thread_;
};

}  // namespace chgate::clickhouse
