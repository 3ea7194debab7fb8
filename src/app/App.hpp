#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "batch/BatchManager.hpp"
#include "batch/MemoryBudget.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "config/ConfigLoader.hpp"
#include "flush/FlushQueue.hpp"
#include "flush/Flusher.hpp"
#include "flush/SpoolReplayer.hpp"
#include "http/Router.hpp"
#include "http/Server.hpp"
#include "metrics/RateWindow.hpp"
#include "store/Storage.hpp"

namespace chgate::app {

/// Wires the parts together and runs them: start in dependency order, wait for
/// a signal, then stop in the order that loses nothing (stop accepting, seal
/// the buffers, finish the inserts).
class App {
  public:
    explicit App(config::LoadedConfig loaded);

    /// Blocks SIGINT, SIGTERM and SIGHUP in every thread (call before any
    /// thread starts), so only run() receives them.
    static void block_signals();

    /// Runs until SIGTERM or SIGINT; returns the process exit status.
    int run();

  private:
    void start();
    int stop();

    const config::ConfigPtr config_;
    const std::vector<std::string> warnings_;
    std::unique_ptr<store::Storage> storage_;  // first: the buffers log into it
    metrics::RateWindow inserted_rate_;
    batch::MemoryBudget budget_;
    flush::FlushQueue queue_;
    clickhouse::ReplicaSet replicas_;
    batch::BatchManager manager_;
    flush::Flusher flusher_;
    flush::SpoolReplayer spool_replayer_;
    http::Router router_;
    http::Server server_;
    std::thread replay_;
    std::atomic<bool> stop_replay_{false};
};

}  // namespace chgate::app
