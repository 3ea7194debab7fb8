#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string_view>

#include "batch/SealTimer.hpp"
#include "batch/TableRegistry.hpp"
#include "batch/WalReplayer.hpp"

namespace chgate::batch {

/// One shard's rows of a request to a table with shard_by.
struct ShardPart {
    TableBuffer* buffer = nullptr;
    std::span<const core::RowSlice> rows;
    std::uint64_t last_lsn = 0;  ///< out: the last log record written for them
};

/// The batch stage's front: appends rows to buffers and hands what they
/// seal to the flush queue. It owns the three parts behind it: the table
/// registry (routing, reload, idle buffers), the seal timer and the
/// write-ahead log replayer.
class BatchManager {
  public:
    /// `storage` may be null (unit tests): then no table has a write-ahead log.
    BatchManager(config::ConfigPtr startup, flush::FlushQueue& queue, MemoryBudget& budget,
                 core::RateWindow& inserted_rate, store::Storage* storage = nullptr);

    TableRegistry& registry() { return registry_; }
    const TableRegistry& registry() const { return registry_; }
    const WalReplayer& replayer() const { return replayer_; }
    /// Where the write-ahead log replay shows its progress; set before replay().
    void set_progress(ProgressBoard* board) { replayer_.set_progress(board); }

    /// Appends rows to a buffer; a batch the strategy seals goes to the flush queue.
    AppendResult append(TableBuffer& buffer, std::string_view body,
                        std::span<const core::RowSlice> rows, TimePoint now,
                        const flush::CommitWaiterPtr& waiter = nullptr);
    /// As append(), for rows that must go in (replays, off the io threads):
    /// while the table's quota is full, waits and tries again, until `stop`.
    /// False, with `error`, when the rows are larger than its max_memory or
    /// chgate is stopping.
    bool append_waiting(TableBuffer& buffer, std::string_view body,
                        std::span<const core::RowSlice> rows, const flush::CommitWaiterPtr& waiter,
                        const std::atomic<bool>& stop, std::string& error);
    /// Appends each shard's rows to its buffer, all or nothing: the table's
    /// quota is reserved once for the whole request, so that no shard keeps
    /// rows of a request that is refused. The buffers share one table.
    Admission append_shards(std::span<ShardPart> parts, std::string_view body, TimePoint now,
                            const flush::CommitWaiterPtr& waiter = nullptr);
    /// Whether batching.max_memory is all in use.
    bool memory_full() const { return budget_.held() >= budget_.limit(); }

    /// Replays the write-ahead logs (see WalReplayer::run), then marks the
    /// registry ready unless `stop` cut it short.
    void replay(const std::atomic<bool>& stop);

    /// Starts the seal timer.
    void start() { timer_.start(); }
    /// Stops the timer; buffers keep their rows until seal_all().
    void stop() { timer_.stop(); }
    /// Seals every non-empty buffer into the flush queue (for shutdown).
    void seal_all(flush::FlushReason reason) { seal_table({}, {}, reason); }
    /// Seals one buffer into the flush queue, if it holds rows.
    void seal(TableBuffer& buffer, flush::FlushReason reason);
    /// Seals the open buffers of `database`.`table` (every table when both are
    /// empty) and queues the batches. Returns {batches, rows} sealed.
    std::pair<std::uint64_t, std::uint64_t> seal_table(std::string_view database,
                                                       std::string_view table,
                                                       flush::FlushReason reason);

    /// A configuration reload (see TableRegistry::retune); batching.max_memory
    /// too. Batches the new limits seal go to the queue.
    TableRegistry::RetuneResult retune(const config::ConfigPtr& next, TimePoint now);

  private:
    flush::FlushQueue& queue_;
    MemoryBudget& budget_;
    store::Storage* const storage_;
    TableRegistry registry_;
    WalReplayer replayer_;
    SealTimer timer_;
};

}  // namespace chgate::batch
