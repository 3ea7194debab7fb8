#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "batch/Batch.hpp"
#include "config/Config.hpp"
#include "flush/FlushQueue.hpp"
#include "flush/RetryPolicy.hpp"
#include "store/WalFormat.hpp"

namespace chgate::clickhouse {
class ServerMonitor;
class HttpClient;
class Compressor;
}  // namespace chgate::clickhouse

namespace chgate::flush {

/// The pool of clickhouse.max_concurrent_inserts threads that take batches from
/// the queue and INSERT them, each over its own keep-alive connection. A failed
/// batch goes back to the queue with a backoff, so one broken table never holds
/// a worker while others wait.
class Flusher {
  public:
    Flusher(FlushQueue& queue, const config::ClickHouseConfig& cfg,
            clickhouse::ServerMonitor& monitor);
    ~Flusher();

    void start();

    /// Waits until every worker has exited (the queue was closed and drained),
    /// or until `deadline`. Returns whether they all exited.
    bool wait_until_drained(std::chrono::steady_clock::time_point deadline);

    /// Joins the workers; call after the queue is closed or aborted.
    void join();

  private:
    void run();
    void deliver(batch::Batch& b, clickhouse::HttpClient& client,
                 clickhouse::Compressor& compressor, std::string& scratch);
    /// Ends a batch's life: its log's done record, its waiters, its memory.
    void finish(batch::Batch& b, store::DoneOutcome outcome,
                const batch::CommitOutcome& for_waiters);

    FlushQueue& queue_;
    const config::ClickHouseConfig cfg_;
    clickhouse::ServerMonitor& monitor_;
    const RetryPolicy retry_;

    std::mutex mutex_;
    std::condition_variable exited_;
    int running_ = 0;  // guarded by mutex_
    std::vector<std::thread> threads_;
};

}  // namespace chgate::flush
