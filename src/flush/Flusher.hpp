#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "batch/Batch.hpp"
#include "clickhouse/ErrorClassifier.hpp"
#include "config/Config.hpp"
#include "flush/FlushQueue.hpp"
#include "flush/RequestOutcomes.hpp"
#include "flush/RetryPolicy.hpp"
#include "store/WalFormat.hpp"

namespace chgate::clickhouse {
class ReplicaSet;
class HttpClient;
class Compressor;
}  // namespace chgate::clickhouse
namespace chgate::store {
class DeadLetters;
class Storage;
struct DeadRow;
}  // namespace chgate::store

namespace chgate::flush {

/// The pool of clickhouse.max_concurrent_inserts threads that take batches from
/// the queue and INSERT them, each over its own keep-alive connection. A failed
/// batch goes back to the queue with a backoff, so one broken table never holds
/// a worker while others wait. Rows ClickHouse refuses are isolated by
/// bisection and, per the table's failure_strategy, dead-lettered or dropped.
class Flusher {
  public:
    /// `storage` may be null (tests): refused rows are then dropped, and
    /// batches out of retries stay in memory.
    Flusher(FlushQueue& queue, const config::ClickHouseConfig& cfg,
            clickhouse::ReplicaSet& replicas, store::Storage* storage = nullptr);
    ~Flusher();

    void start();

    /// Waits until every worker has exited (the queue was closed and drained),
    /// or until `deadline`. Returns whether they all exited.
    bool wait_until_drained(std::chrono::steady_clock::time_point deadline);

    /// Joins the workers; call after the queue is closed or aborted.
    void join();

  private:
    /// One worker's connection and buffers.
    struct Worker {
        clickhouse::HttpClient& client;
        clickhouse::Compressor& compressor;
        std::string& scratch;
    };
    struct Attempt {
        clickhouse::InsertOutcome outcome;
        clickhouse::HttpResponse response;
        std::uint64_t sent_bytes = 0;
    };

    void run(int index);
    void deliver(batch::Batch& b, Worker& w);
    Attempt attempt(const batch::Batch& b, std::string_view rows, Worker& w);
    /// "Code N: message", or the message when there is no code.
    static std::string describe(const clickhouse::InsertOutcome& o);
    /// Quarantine: bisection finds the bad rows (within the INSERT budget).
    void on_bad_rows(batch::Batch& b, const clickhouse::InsertOutcome& refusal, Worker& w);
    /// Reject: every row of the batch goes to the dead letters, no bisection.
    void on_rejected(batch::Batch& b, const clickhouse::InsertOutcome& refusal);
    void on_transient(batch::Batch& b, const clickhouse::InsertOutcome& failure,
                      const std::string& error);
    /// The batch has waited longer than hold_max while its buffer is held: its
    /// rows go to the dead letters, with the hold's reason (`last`, when this
    /// batch just tried, else the table's).
    void give_up_held(batch::Batch& b, const clickhouse::InsertOutcome& last);
    /// Writes refused rows to the dead letters (or drops them, LogAndContinue,
    /// unless `always_keep`). False when the dead letters could not be
    /// written: then the batch keeps only the rows at `unsettled` (all of
    /// them when that covers the batch, or when `outcomes` is null) and goes
    /// back to the queue.
    bool settle_bad_rows(batch::Batch& b, std::span<const store::DeadRow> bad,
                         std::uint64_t inserted, std::uint64_t inserts, bool always_keep = false,
                         std::span<const std::size_t> unsettled = {},
                         RequestOutcomes* outcomes = nullptr);
    /// The batch goes on with only the rows at `kept` (ascending): the others
    /// are settled, their memory released, their requests told.
    void keep_only(batch::Batch& b, std::span<const std::size_t> kept, RequestOutcomes& outcomes);
    void retry_later(batch::Batch& b, const std::string& error);
    /// Out of retries: to the spool if there is room, else kept in memory.
    void spool_or_keep(batch::Batch& b, const clickhouse::InsertOutcome& failure,
                       const std::string& error);
    /// The batch leaves memory and the queue: its counters, its quota. On its
    /// own when the batch is on disk and not finished; the end of finish().
    void let_go(batch::Batch& b);
    /// Ends a batch's life: its log's done record, its requests' answers
    /// (each its own outcome: refused per `outcomes`, else `otherwise`, else
    /// committed), its memory.
    void finish(batch::Batch& b, store::DoneOutcome outcome, const RequestOutcomes& outcomes,
                const RequestOutcomes::Otherwise& otherwise = {});

    FlushQueue& queue_;
    const config::ClickHouseConfig cfg_;
    clickhouse::ReplicaSet& replicas_;
    store::Storage* const storage_;
    store::DeadLetters* const dead_letters_;
    const RetryPolicy retry_;

    std::mutex mutex_;
    std::condition_variable exited_;
    int running_ = 0;  // guarded by mutex_
    std::vector<std::thread> threads_;
};

}  // namespace chgate::flush
