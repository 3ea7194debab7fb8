#pragma once

#include <cstdint>
#include <memory>

#include "util/PeriodicTask.hpp"
#include "util/Progress.hpp"

namespace chgate::clickhouse {
class Topology;
}
namespace chgate::store {
class Spool;
struct SpoolEntry;
}  // namespace chgate::store

namespace chgate::flush {
class FlushQueue;
}

namespace chgate::batch {

class BatchManager;

/// The spool replay's byte budget: `rate` bytes a second, handed out a tenth
/// at a time, at most one second's worth saved up. It may go into debt: a
/// batch bigger than what is saved up goes all the same, and nothing more is
/// handed out until the debt is paid, so the rate holds for batches of any
/// size. Pure; one thread's.
class ReplayBucket {
  public:
    explicit ReplayBucket(std::uint64_t bytes_per_second);
    /// Starts full: one second's worth.
    void fill() { tokens_ = rate_; }
    /// Every tenth of a second: refills, and returns what may be spent now
    /// (0 while in debt).
    std::uint64_t tick();
    /// `bytes` were spent (possibly more than tick() offered).
    void spend(std::uint64_t bytes);

  private:
    std::int64_t rate_;
    std::int64_t tokens_ = 0;
};

/// Brings spooled batches back while ClickHouse answers (a shard's, while a
/// replica of that shard answers): oldest first, one
/// table after another (a table whose memory is full is skipped, so it never
/// blocks the others), at storage.spool_replay_rate bytes per second so that
/// recovery does not swamp ClickHouse, and only while a table holds at most
/// half of its max_memory, so that its live requests are still taken.
class SpoolReplayer {
  public:
    SpoolReplayer(store::Spool& spool, BatchManager& manager, flush::FlushQueue& queue,
                  const clickhouse::Topology& topology, std::uint64_t bytes_per_second);
    ~SpoolReplayer();

    /// Where a drain of the spool shows its progress; set before start().
    void set_progress(ProgressBoard* board) { progress_ = board; }
    void start();
    void stop();

    /// One round (called every 100 ms while a replica answers): loads
    /// spooled batches into the flush queue, one table after another, until
    /// `budget` bytes are loaded or no table takes more. Returns the bytes.
    std::uint64_t round(std::uint64_t budget);

  private:
    /// Every 100 ms: refills the token bucket, and spends it on a round.
    void tick();
    /// A drain runs from when the spool holds rows and ClickHouse answers
    /// until it is empty: rows gone and left, rate and ETA on the board, and
    /// in the log every 5 s.
    void track_drain();
    enum class Outcome { loaded, no_room, set_aside };
    /// Loads `entry` into the flush queue if its table has room and its shard
    /// a replica that answers. An entry that
    /// will never load (gone, or damaged) is set aside; one that cannot be
    /// opened for a passing reason is left for a later round.
    Outcome bring_back(const store::SpoolEntry& entry);

    store::Spool& spool_;
    BatchManager& manager_;
    flush::FlushQueue& queue_;
    const clickhouse::Topology& topology_;
    ReplayBucket bucket_;  // the task's thread's alone
    // The drain in progress, if any, and the spool's rows gone at its start.
    // The task's thread's alone.
    ProgressBoard* progress_ = nullptr;
    std::unique_ptr<ProgressScope> drain_;
    std::uint64_t gone_at_start_ = 0;
    std::uint64_t logged_done_ = 0;
    PeriodicTask task_;
};

}  // namespace chgate::batch
