#pragma once

#include <atomic>
#include <cstdint>

#include "batch/TableRegistry.hpp"
#include "util/Mutex.hpp"
#include "util/Progress.hpp"

namespace chgate::flush {
class FlushQueue;
}
namespace chgate::store {
class Storage;
struct ReplayedBatch;
}  // namespace chgate::store

namespace chgate::batch {

/// Sends again, at start, what the write-ahead logs hold that ClickHouse has
/// not committed.
class WalReplayer {
  public:
    WalReplayer(TableRegistry& registry, flush::FlushQueue& queue, store::Storage* storage);

    /// Replays every log on disk, including those of tables no longer
    /// configured. Holds one batch in memory at a time beyond the quotas'
    /// room, waiting for inserts to make room. Returns early if `stop` is set
    /// (the rest stays in the logs for the next start).
    /// Shows its progress on `board` (rows done and, from the bytes of the
    /// logs still to read, about how many left) and logs it every 5 s.
    void run(const std::atomic<bool>& stop);

    /// Where run() shows its progress; set before it runs.
    void set_progress(ProgressBoard* board) { progress_ = board; }

    /// What replay found, summed over every log.
    struct Totals {
        std::uint64_t logs = 0, records = 0, rows = 0, batches = 0, damaged = 0, torn_bytes = 0,
                      unreadable_segments = 0;
    };
    Totals totals() const;

  private:
    void enqueue(TableBuffer& buffer, store::ReplayedBatch&& replayed,
                 const std::atomic<bool>& stop);

    TableRegistry& registry_;
    flush::FlushQueue& queue_;
    store::Storage* const storage_;
    ProgressBoard* progress_ = nullptr;
    mutable Mutex mutex_;
    Totals totals_ GUARDED_BY(mutex_);
};

}  // namespace chgate::batch
