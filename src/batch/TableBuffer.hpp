#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "batch/Strategy.hpp"
#include "batch/Table.hpp"
#include "core/RowSlice.hpp"
#include "flush/Batch.hpp"
#include "flush/BatchOwner.hpp"
#include "util/Mutex.hpp"

namespace chgate::store {
class Wal;
struct ReplayedBatch;
}  // namespace chgate::store

namespace chgate::batch {

/// What an append did, beyond admission.
struct AppendResult {
    Admission admission = Admission::ok;
    /// The last write-ahead log record written for the request; 0 without a log.
    std::uint64_t last_lsn = 0;
};

/// The open buffer of one (table, column list): rows are copied in as NDJSON
/// under a short lock, and the table's strategy decides when the buffer is
/// sealed into a Batch. With a write-ahead log, each chunk of rows is logged
/// under the same lock, so a batch is always a contiguous range of records.
/// It owns the batches it seals: the flusher reports their lives to it.
class TableBuffer final : public flush::BatchOwner,
                          public std::enable_shared_from_this<TableBuffer> {
  public:
    /// `wal` may be null (no log). `log_appends` says whether new rows are
    /// logged: false for ack: buffered tables, whose log only replays old rows.
    /// `shard` (from 1): the buffer of one shard of a table with shard_by,
    /// which inserts into its local_table on that shard's replicas.
    TableBuffer(std::shared_ptr<Table> table, std::vector<std::string> columns,
                std::unique_ptr<Strategy> strategy, std::shared_ptr<store::Wal> wal = nullptr,
                bool log_appends = false, std::uint32_t shard = 0);

    /// Copies `rows` (slices of `body`) in, all or nothing, after reserving
    /// their bytes against the table's and gateway's quotas. Batches the
    /// strategy seals are appended to `sealed`; a request larger than the
    /// strategy's row or byte limit is split across several. With `waiter`,
    /// every batch holding some of the rows reports to it when it finishes.
    AppendResult append(std::string_view body, std::span<const core::RowSlice> rows, TimePoint now,
                        std::vector<flush::Batch>& sealed,
                        const flush::CommitWaiterPtr& waiter = nullptr);

    /// As append(), for rows whose `bytes` (row_bytes) the caller has
    /// reserved against the quotas: the shards of one request reserve once,
    /// and count one request (`requests` 0 for all but the first).
    AppendResult append_reserved(std::string_view body, std::span<const core::RowSlice> rows,
                                 std::uint64_t bytes, TimePoint now,
                                 std::vector<flush::Batch>& sealed,
                                 const flush::CommitWaiterPtr& waiter = nullptr,
                                 std::uint64_t requests = 1);

    /// Seals if a deadline has passed (called by the batch manager's timer).
    std::optional<flush::Batch> seal_if_due(TimePoint now);

    /// Seals whatever is buffered, for shutdown.
    std::optional<flush::Batch> seal_now(flush::FlushReason reason, TimePoint now);

    /// Turns a batch rebuilt from the log into one ready to send. The caller
    /// has reserved its bytes against the quotas.
    flush::Batch adopt_replayed(store::ReplayedBatch&& replayed, std::uint64_t batch_id,
                                TimePoint now);

    /// When the buffer must be sealed; TimePoint::max() while it is empty.
    /// Lock-free, for the timer.
    TimePoint deadline() const { return TimePoint(Clock::duration(deadline_.load())); }

    /// A config reload: the table's new strategy takes over the open rows (an
    /// adaptive strategy starts learning again). Returns the batch it seals
    /// at once, if the rows already reach its limits.
    std::optional<flush::Batch> retune(std::unique_ptr<Strategy> strategy, TimePoint now);

    void on_flushed(const FlushFeedback& feedback);
    /// When the first row of the open buffer came; TimePoint::max() when empty.
    TimePoint oldest_open_event() const;
    /// When rows were last appended (or the buffer made): for closing idle buffers.
    TimePoint last_used() const { return TimePoint(Clock::duration(last_used_.load())); }
    Thresholds thresholds() const;

    Table& table() const { return *table_; }
    /// The shard (from 1) this buffer feeds; 0: the table itself.
    std::uint32_t shard() const { return target_.shard; }
    const std::shared_ptr<Table>& table_ptr() const { return table_; }
    const std::vector<std::string>& columns() const { return columns_; }
    /// INSERT INTO `db`.`table` [(`c1`, …)] FORMAT JSONEachRow
    const std::string& insert_query() const { return target_.insert_query; }
    /// The write-ahead log, or null.
    const std::shared_ptr<store::Wal>& wal() const { return wal_; }
    bool logs_appends() const { return log_appends_; }
    /// The table's name, and its column list when it has one (cut at about
    /// 120 characters): for logs, /metrics and /readyz.
    const std::string& label() const { return target_.label; }

    // Held: ClickHouse cannot take this buffer's rows (its table or database
    // is gone, chgate's user lacks access). The rows are kept; one batch tries
    // again every hold_probe_interval. Another column list of the same table,
    // or the same table's plain buffer, is not held by it.
    void hold(const std::string& reason, TimePoint now) override;
    /// Ends a hold; true if the buffer was held.
    bool release_hold() override;
    bool held() const override { return held_.load(std::memory_order_relaxed); }
    /// Since when it is held; TimePoint::max() when it is not.
    TimePoint held_since() const;
    /// For a held buffer: true if a batch may try now (and the next may not
    /// for `interval`); otherwise `next` says when.
    bool claim_probe(TimePoint now, milliseconds interval, TimePoint& next) override;

    // The rest of flush::BatchOwner: the flusher's reports, kept in the table's books.
    const flush::BatchTarget& target() const override { return target_; }
    std::shared_ptr<const config::TableConfig> settings() const override {
        return table_->config();
    }
    bool configured() const override { return table_->configured(); }
    void mark_missing(TimePoint until) override { table_->mark_missing(until); }
    std::string hold_reason() const override { return table_->hold_state().reason; }
    void on_sent(const flush::Batch& b, bool ok, milliseconds elapsed) override;
    void on_inserted(const flush::Batch& b, std::uint64_t sent_bytes,
                     milliseconds elapsed) override;
    void on_attempt_failed(const flush::Batch& b, const std::string& error, milliseconds retry_in,
                           bool will_retry) override;
    void on_bad_rows(const flush::Batch& b, std::uint64_t inserted, std::uint64_t bad,
                     std::uint64_t inserts, bool dead_lettered,
                     const std::string& first_error) override;
    void on_spooled(const flush::Batch& b, const std::string& error) override;
    void on_done(const flush::Batch& b, store::DoneOutcome outcome) override;
    void on_rows_left(std::uint64_t rows, std::uint64_t bytes) override;
    void on_released(const flush::Batch& b) override;
    bool seal_logged(const flush::Batch& b) const override;

  private:
    flush::Batch seal_locked(flush::FlushReason reason, TimePoint now) REQUIRES(mutex_);
    void update_deadline_locked() REQUIRES(mutex_);
    void copy_rows_locked(std::string_view body, std::span<const core::RowSlice> rows,
                          std::uint64_t bytes) REQUIRES(mutex_);
    std::uint64_t log_chunk_locked(std::uint64_t bytes) REQUIRES(mutex_);

    const std::shared_ptr<Table> table_;
    const std::vector<std::string> columns_;
    const flush::BatchTarget target_;
    const std::shared_ptr<store::Wal> wal_;
    const bool log_appends_;

    mutable Mutex mutex_;
    // Guarded by mutex_: the open rows and what the strategy knows of them.
    std::string data_ GUARDED_BY(mutex_);
    std::uint64_t rows_ GUARDED_BY(mutex_) = 0;
    TimePoint first_append_ GUARDED_BY(mutex_){};
    std::unique_ptr<Strategy> strategy_ GUARDED_BY(mutex_);
    std::size_t last_batch_capacity_ GUARDED_BY(mutex_) = 0;
    std::uint64_t open_first_lsn_ GUARDED_BY(mutex_) = 0;
    std::uint64_t open_last_lsn_ GUARDED_BY(mutex_) = 0;
    std::vector<flush::WaiterRows> open_waiters_ GUARDED_BY(mutex_);

    // Written under mutex_, read without it by the timer.
    std::atomic<Clock::rep> deadline_{TimePoint::max().time_since_epoch().count()};
    std::atomic<Clock::rep> last_used_{Clock::now().time_since_epoch().count()};

    mutable Mutex hold_mutex_;
    // Guarded by hold_mutex_ (held_ is written under it, read without it).
    TimePoint held_since_ GUARDED_BY(hold_mutex_) = TimePoint::max();
    TimePoint next_probe_ GUARDED_BY(hold_mutex_){};
    std::atomic<bool> held_{false};
};

/// What `rows` take in a buffer: each row and its line break.
std::uint64_t row_bytes(std::span<const core::RowSlice> rows);

/// Batch ids: unique within the process, increasing, and unlikely to repeat
/// across restarts (they start from the wall clock).
std::uint64_t next_batch_id();

}  // namespace chgate::batch
