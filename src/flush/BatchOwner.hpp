#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/Config.hpp"
#include "core/Clock.hpp"
#include "store/Storage.hpp"
#include "store/WalFormat.hpp"

namespace chgate::flush {

struct Batch;

/// Where a batch's rows go and how they are named on disk; fixed for the
/// owner's life.
struct BatchTarget {
    std::string insert_query;  ///< INSERT INTO `db`.`table` [(`c1`, …)] FORMAT JSONEachRow
    store::LogTarget files;    ///< names the batch's spool and dead-letter files
    std::string label;         ///< the table's name and column list, for logs
    /// The cluster's shard (from 1) whose replicas take the batch; 0: the
    /// replicas of tables without shard_by.
    std::uint32_t shard = 0;
    /// The table the INSERT goes into, in files.database: the client's
    /// table, or a shard's local_table.
    std::string insert_table;
    /// The table's name as /metrics and the log's `table` field show it.
    std::string table;
};

/// What a flusher needs of where a batch came from (a table's buffer, which
/// sits above the flush stage and hands this interface down). The flusher
/// decides: retry, bisect, spool, dead-letter, hold. The owner keeps the
/// books: counters, logs, its memory quota, its write-ahead log's done
/// records and its strategy's feedback. Every method is thread-safe.
class BatchOwner {
  public:
    virtual ~BatchOwner() = default;

    virtual const BatchTarget& target() const = 0;
    /// The table's settings now; a reload may replace them, so read them for
    /// each decision and keep the pointer while using them.
    virtual std::shared_ptr<const config::TableConfig> settings() const = 0;
    /// In batching.tables, rather than served by default for a client.
    virtual bool configured() const = 0;
    /// ClickHouse said a table served by default does not exist: its requests
    /// are refused at the door until `until`.
    virtual void mark_missing(TimePoint until) = 0;

    // Held: ClickHouse cannot take the owner's rows now (its table or database
    // is gone, chgate's user lacks access). The rows are kept; one batch tries
    // again every hold_probe_interval.
    virtual bool held() const = 0;
    /// For a held owner: true if a batch may try now (and the next may not for
    /// `interval`); otherwise `next` says when.
    virtual bool claim_probe(TimePoint now, milliseconds interval, TimePoint& next) = 0;
    virtual void hold(const std::string& reason, TimePoint now) = 0;
    /// Ends a hold; true if the owner was held.
    virtual bool release_hold() = 0;
    /// Why the owner's table is held, for a batch that gives up waiting.
    virtual std::string hold_reason() const = 0;

    // The events of a batch's life, each counted and logged by the owner.
    /// One INSERT of the whole batch answered (ok or not), for the strategy.
    virtual void on_sent(const Batch& b, bool ok, milliseconds elapsed) = 0;
    virtual void on_inserted(const Batch& b, std::uint64_t sent_bytes, milliseconds elapsed) = 0;
    virtual void on_attempt_failed(const Batch& b, const std::string& error, milliseconds retry_in,
                                   bool will_retry) = 0;
    /// ClickHouse refused some rows: `bad` went to the dead letters (or, with
    /// LogAndContinue, were dropped), `inserted` went in, in `inserts` INSERTs.
    virtual void on_bad_rows(const Batch& b, std::uint64_t inserted, std::uint64_t bad,
                             std::uint64_t inserts, bool dead_lettered,
                             const std::string& first_error) = 0;
    /// Out of retries, the batch is in the spool now: its log need not replay it.
    virtual void on_spooled(const Batch& b, const std::string& error) = 0;
    /// The batch is finished (`outcome`): its log need not replay it.
    virtual void on_done(const Batch& b, store::DoneOutcome outcome) = 0;
    /// `rows` rows (`bytes` bytes) of a batch left it before its end (bisection
    /// settled them): their memory goes back to the quota.
    virtual void on_rows_left(std::uint64_t rows, std::uint64_t bytes) = 0;
    /// The batch leaves memory: finished, or waiting in the spool.
    virtual void on_released(const Batch& b) = 0;
    /// Whether the batch's seal record is on disk (or the batch has none, or
    /// its log is down and never will be): only then may it be sent.
    virtual bool seal_logged(const Batch& b) const = 0;
};

}  // namespace chgate::flush
