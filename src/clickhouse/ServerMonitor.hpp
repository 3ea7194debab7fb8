#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "clickhouse/ServerInfo.hpp"
#include "config/Config.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::clickhouse {

class HttpClient;

/// Watches ClickHouse from its own thread: a `SELECT 1` every probe_interval
/// for /readyz, and, whenever the server (re)appears, a capability probe
/// (version, settings, zstd bodies, wait_end_of_query). Readers never block on
/// the network: they read the last results.
class ServerMonitor {
  public:
    /// Watches the replica at `url`, with the rest of `cfg` (credentials, TLS, timeouts).
    ServerMonitor(config::ClickHouseConfig cfg, std::string url);
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
    void probe_once(HttpClient& client);
    bool probe_capabilities(HttpClient& client, std::string& error);
    void set_state(bool reachable, const std::string& error);

    const config::ClickHouseConfig cfg_;
    const std::string url_;
    std::atomic<bool> reachable_{false};

    mutable Mutex mutex_;
    std::shared_ptr<const ServerInfo> info_ GUARDED_BY(mutex_);
    // Capabilities known for the current reachable period.
    bool probed_ GUARDED_BY(mutex_) = false;
    std::string last_error_ GUARDED_BY(mutex_);

    // The probe thread's own connection, and the thread.
    std::unique_ptr<HttpClient> client_;
    PeriodicTask task_;
};

}  // namespace chgate::clickhouse
