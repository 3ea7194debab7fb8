#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <vector>

#include "store/Wal.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::store {

/// The one thread that writes every write-ahead log. Group commit falls out of
/// the loop: records that arrive while a sync runs go out together in the next.
class WalWriter {
  public:
    WalWriter(FsyncMode mode, std::chrono::milliseconds fsync_interval);
    ~WalWriter();

    void add(std::shared_ptr<Wal> wal);
    /// Stops writing `wal` (its buffer is closed): what it has left is written,
    /// and if no batch of it is unfinished its directory is removed. Runs on
    /// the writer thread, and returns once done, so that a new log for the
    /// same buffer can be opened at once. Returns whether the directory went.
    bool retire(const std::shared_ptr<Wal>& wal);
    /// Tells the writer there are records to write; cheap when it already knows.
    void notify();

    void start();
    /// Writes and syncs everything left, then stops.
    void stop();

    /// fdatasync calls on the logs, and the time spent in them.
    std::uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
    std::chrono::nanoseconds sync_time() const {
        return std::chrono::nanoseconds(sync_ns_.load(std::memory_order_relaxed));
    }
    /// Called by the logs for each fdatasync.
    void count_sync(std::chrono::nanoseconds took) {
        syncs_.fetch_add(1, std::memory_order_relaxed);
        sync_ns_.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
    }

  private:
    using Retiring = std::vector<std::pair<std::shared_ptr<Wal>, std::promise<bool>*>>;
    /// One round of the writer's thread: writes what the logs hold, syncs as
    /// the mode says, retires logs, deletes finished segments. `last` (after
    /// stop()): everything left is written and synced.
    std::chrono::steady_clock::time_point write_round(bool last) EXCLUDES(mutex_);

    const FsyncMode mode_;
    const std::chrono::milliseconds fsync_interval_;
    Mutex mutex_;
    std::vector<std::shared_ptr<Wal>> wals_ GUARDED_BY(mutex_);
    // Logs to retire, and the promises that say they are.
    Retiring retiring_ GUARDED_BY(mutex_);
    bool running_ GUARDED_BY(mutex_) = false;  // the thread takes retire() requests
    std::atomic<bool> pending_{false};
    std::atomic<std::uint64_t> syncs_{0};
    std::atomic<std::uint64_t> sync_ns_{0};
    // The writer's thread's own.
    std::chrono::steady_clock::time_point last_sync_{}, last_gc_{};
    PeriodicTask task_;
};

}  // namespace chgate::store
