#pragma once

#include <cstdint>

#include "util/PeriodicTask.hpp"

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

    void start();
    void stop();

    /// One round (called every 100 ms while a replica answers): loads
    /// spooled batches into the flush queue, one table after another, until
    /// `budget` bytes are loaded or no table takes more. Returns the bytes.
    std::uint64_t round(std::uint64_t budget);

  private:
    /// Every 100 ms: refills the token bucket, and spends it on a round.
    void tick();
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
    const std::uint64_t rate_;
    // A token bucket: rate_ bytes a second, at most one second's worth saved
    // up. The task's thread's alone.
    std::uint64_t tokens_ = 0;
    PeriodicTask task_;
};

}  // namespace chgate::batch
