#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "batch/Batch.hpp"
#include "batch/Strategy.hpp"
#include "batch/Table.hpp"
#include "ingest/BodyDecoder.hpp"

namespace chgate::batch {

/// The open buffer of one (table, column list): rows are copied in as NDJSON
/// under a short lock, and the table's strategy decides when the buffer is
/// sealed into a Batch.
class TableBuffer : public std::enable_shared_from_this<TableBuffer> {
  public:
    TableBuffer(std::shared_ptr<Table> table, std::vector<std::string> columns,
                std::unique_ptr<Strategy> strategy);

    /// Copies `rows` (slices of `body`) in, all or nothing, after reserving
    /// their bytes against the table's and gateway's quotas. Batches the
    /// strategy seals are appended to `sealed`; a request larger than the
    /// strategy's row or byte limit is split across several.
    Admission append(std::string_view body, std::span<const ingest::RowSlice> rows, TimePoint now,
                     std::vector<Batch>& sealed);

    /// Seals if a deadline has passed (called by the batch manager's timer).
    std::optional<Batch> seal_if_due(TimePoint now);

    /// Seals whatever is buffered, for shutdown.
    std::optional<Batch> seal_now(FlushReason reason, TimePoint now);

    /// When the buffer must be sealed; TimePoint::max() while it is empty.
    /// Lock-free, for the timer.
    TimePoint deadline() const { return TimePoint(Clock::duration(deadline_.load())); }

    void on_flushed(const FlushFeedback& feedback);
    Thresholds thresholds() const;

    Table& table() const { return *table_; }
    const std::shared_ptr<Table>& table_ptr() const { return table_; }
    const std::vector<std::string>& columns() const { return columns_; }
    /// INSERT INTO `db`.`table` [(`c1`, …)] FORMAT JSONEachRow
    const std::string& insert_query() const { return insert_query_; }

  private:
    // All three need mutex_ held.
    Batch seal_locked(FlushReason reason, TimePoint now);
    void update_deadline_locked();
    void copy_rows_locked(std::string_view body, std::span<const ingest::RowSlice> rows,
                          std::uint64_t bytes);

    const std::shared_ptr<Table> table_;
    const std::vector<std::string> columns_;
    const std::string insert_query_;

    mutable std::mutex mutex_;
    // Guarded by mutex_: the open rows and what the strategy knows of them.
    std::string data_;
    std::uint64_t rows_ = 0;
    TimePoint first_append_{};
    std::unique_ptr<Strategy> strategy_;
    std::size_t last_batch_capacity_ = 0;

    // Written under mutex_, read without it by the timer.
    std::atomic<Clock::rep> deadline_{TimePoint::max().time_since_epoch().count()};
};

/// Batch ids: unique within the process, increasing, and unlikely to repeat
/// across restarts (they start from the wall clock).
std::uint64_t next_batch_id();

}  // namespace chgate::batch
