#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/ErrorClassifier.hpp"
#include "clickhouse/Sender.hpp"
#include "config/Config.hpp"
#include "flush/Batch.hpp"
#include "flush/BatchOwner.hpp"
#include "flush/Bisector.hpp"
#include "flush/FlushQueue.hpp"
#include "flush/RequestOutcomes.hpp"
#include "flush/RetryPolicy.hpp"
#include "store/WalFormat.hpp"
#include "util/Mutex.hpp"

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
/// The flusher knows a batch's source only through its BatchOwner, and
/// ClickHouse only through a Sender.
class Flusher {
  public:
    /// `storage` may be null (tests): refused rows are then dropped, and
    /// batches out of retries stay in memory.
    Flusher(FlushQueue& queue, const config::ClickHouseConfig& cfg,
            clickhouse::SenderFactory senders, store::Storage* storage = nullptr);
    ~Flusher();

    /// Told of each INSERT that ClickHouse refused for what the rows or the
    /// table are (a type, a column, no such table): the table's schema may
    /// have changed. Called on a flusher thread; set before start().
    using SchemaSuspect = std::function<void(const BatchTarget&)>;
    void on_schema_suspect(SchemaSuspect hook) { schema_suspect_ = std::move(hook); }

    /// Whether a target's batches wait before they are sent: a column their
    /// rows may use is being added. They are looked at again every
    /// 100 ms, spending no retry. The answer must turn false in bounded
    /// time. Called on a flusher thread; set before start().
    using WaitsForColumns = std::function<bool(const BatchTarget&)>;
    void on_waits_for_columns(WaitsForColumns hook) { waits_for_columns_ = std::move(hook); }

    /// For a table with insert_format: rowbinary, encodes `rows` (NDJSON):
    /// true with the INSERT's `query` and `body`; false to send them as
    /// JSONEachRow. Called on a flusher thread for every attempt (bisection's
    /// too); set before start().
    using Encode =
        std::function<bool(const BatchTarget&, const config::TableConfig&, std::string_view rows,
                           std::string& query, std::string& body)>;
    void on_encode(Encode hook) { encode_ = std::move(hook); }

    /// Sends rows ClickHouse refused (bisection, or a refused column list)
    /// of an owner with on_invalid: quarantine to its quarantine table.
    /// False, with the reason, when it cannot take them now: they go to the
    /// dead letters instead. Called on a flusher thread; set before start().
    using QuarantineSink =
        std::function<bool(BatchOwner& owner, std::uint64_t batch_id,
                           std::span<const store::DeadRow> rows, std::string& error)>;
    void on_quarantine(QuarantineSink sink) { quarantine_ = std::move(sink); }

    void start();

    /// Waits until every worker has exited (the queue was closed and drained),
    /// or until `deadline`. Returns whether they all exited.
    bool wait_until_drained(std::chrono::steady_clock::time_point deadline);

    /// Joins the workers; call after the queue is closed or aborted.
    void join();

    /// What put_away() did with the batches left at shutdown, in rows.
    struct Leftovers {
        std::uint64_t on_disk = 0;  ///< already in a write-ahead log or the spool
        std::uint64_t spooled = 0;  ///< written to the spool now
        std::uint64_t lost = 0;     ///< no room on disk
    };
    /// At a shutdown that ran out of time (the queue aborted, the workers
    /// joined): writes each batch that is only in memory to the spool, where
    /// the next start finds it.
    Leftovers put_away(std::vector<Batch> left);

    /// One attempt at one batch, on the caller's thread, as each worker does
    /// it: the batch ends, or goes back to the queue. Public for tests.
    void deliver(Batch& b, clickhouse::Sender& sender);

  private:
    void run();
    clickhouse::SendResult attempt(const Batch& b, std::string_view rows,
                                   clickhouse::Sender& sender);
    /// "Code N: message", or the message when there is no code.
    static std::string describe(const clickhouse::InsertOutcome& o);
    /// A held buffer's batch that is not its probe: it waits (requeued), or
    /// past hold_max goes to the dead letters. False: it may be tried now.
    bool waits_for_probe(Batch& b, TimePoint now);
    /// ClickHouse refused the target (a missing table, no rights): the buffer
    /// holds, and the batch waits for the next probe, at most hold_max.
    void on_held(Batch& b, const clickhouse::InsertOutcome& outcome, TimePoint now);
    void on_committed(Batch& b, const clickhouse::SendResult& a);
    /// The rows a refused batch settles: dead letters, and (ascending) the
    /// rows a dead-letter failure keeps in the batch.
    struct BadRows {
        std::vector<store::DeadRow> dead;
        std::vector<std::size_t> unsettled;
        BisectResult found;  ///< empty for FailBatch
    };
    /// FailBatch: every row is refused, good rows with the bad.
    BadRows refuse_whole_batch(Batch& b, const clickhouse::InsertOutcome& refusal,
                               RequestOutcomes& outcomes);
    /// Bisection finds the bad rows, within clickhouse.max_inserts_per_batch.
    BadRows isolate_bad_rows(Batch& b, const clickhouse::InsertOutcome& refusal,
                             clickhouse::Sender& sender, RequestOutcomes& outcomes);
    /// Quarantine: bisection finds the bad rows (within the INSERT budget).
    void on_bad_rows(Batch& b, const clickhouse::InsertOutcome& refusal,
                     clickhouse::Sender& sender);
    /// Reject: every row of the batch goes to the dead letters, no bisection.
    void on_rejected(Batch& b, const clickhouse::InsertOutcome& refusal);
    void on_transient(Batch& b, const clickhouse::InsertOutcome& failure, const std::string& error);
    /// The batch has waited longer than hold_max while its buffer is held: its
    /// rows go to the dead letters, with the hold's reason (`last`, when this
    /// batch just tried, else the table's).
    void give_up_held(Batch& b, const clickhouse::InsertOutcome& last);
    /// Whether refused rows are kept in the dead letters: as the table's
    /// failure_strategy says (LogAndContinue drops them), or always (rows
    /// given up while held: not a refusal of the rows, so never dropped).
    /// per_strategy: rows ClickHouse refused, which go to the quarantine
    /// table under on_invalid: quarantine, else to the dead letters or
    /// nowhere by failure_strategy. always: rows not refused but given up
    /// on (hold_max, out of retries), always to the dead letters.
    enum class Keep { per_strategy, always };
    /// Writes refused rows to the quarantine table or the dead letters (or drops them, per `keep`).
    /// False when the dead letters could not be written: then the batch keeps only the rows at
    /// `unsettled` (all of them when that covers the batch, or when `outcomes` is null) and goes
    /// back to the queue.
    bool settle_bad_rows(Batch& b, std::span<const store::DeadRow> bad, std::uint64_t inserted,
                         std::uint64_t inserts, Keep keep = Keep::per_strategy,
                         std::span<const std::size_t> unsettled = {},
                         RequestOutcomes* outcomes = nullptr);
    /// The batch goes on with only the rows at `kept` (ascending): the others
    /// are settled, their memory released, their requests told.
    void keep_only(Batch& b, std::span<const std::size_t> kept, RequestOutcomes& outcomes);
    void retry_later(Batch& b, const std::string& error);
    /// Out of retries: to the spool if there is room, else kept in memory.
    void spool_or_keep(Batch& b, const clickhouse::InsertOutcome& failure,
                       const std::string& error);
    /// The batch leaves memory and the queue: its counters, its quota. On its
    /// own when the batch is on disk and not finished; the end of finish().
    void let_go(Batch& b);
    /// Ends a batch's life: its log's done record, its requests' answers
    /// (each its own outcome: refused per `outcomes`, else `otherwise`, else
    /// committed), its memory.
    void finish(Batch& b, store::DoneOutcome outcome, const RequestOutcomes& outcomes,
                const RequestOutcomes::Otherwise& otherwise = {});

    FlushQueue& queue_;
    const config::ClickHouseConfig cfg_;
    SchemaSuspect schema_suspect_;
    WaitsForColumns waits_for_columns_;
    Encode encode_;
    QuarantineSink quarantine_;
    const clickhouse::SenderFactory senders_;
    store::Storage* const storage_;
    store::DeadLetters* const dead_letters_;
    const RetryPolicy retry_;

    Mutex mutex_;
    CondVar exited_;
    int running_ GUARDED_BY(mutex_) = 0;
    std::vector<std::thread> threads_;
};

}  // namespace chgate::flush
