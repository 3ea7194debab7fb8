#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace chgate::batch {
class BatchManager;
}
namespace chgate::clickhouse {
class ReplicaSet;
}
namespace chgate::store {
class Spool;
}

namespace chgate::flush {

class FlushQueue;

/// Brings spooled batches back while ClickHouse answers: oldest first, one
/// table after another (a table whose memory is full is skipped, so it never
/// blocks the others), at storage.spool_replay_rate bytes per second so that
/// recovery does not swamp ClickHouse.
class SpoolReplayer {
  public:
    SpoolReplayer(store::Spool& spool, batch::BatchManager& manager, FlushQueue& queue,
                  const clickhouse::ReplicaSet& replicas, std::uint64_t bytes_per_second);
    ~SpoolReplayer();

    void start();
    void stop();

  private:
    void run();
    /// One round over the tables; returns the bytes loaded.
    std::uint64_t round(std::uint64_t budget);

    store::Spool& spool_;
    batch::BatchManager& manager_;
    FlushQueue& queue_;
    const clickhouse::ReplicaSet& replicas_;
    const std::uint64_t rate_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;  // guarded by mutex_
    std::thread thread_;
};

}  // namespace chgate::flush
