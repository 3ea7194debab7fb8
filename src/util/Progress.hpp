#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/Mutex.hpp"

namespace chgate {

/// Where a long operation is: rows done and left, the rate so far and the
/// time left at that rate. Shown by /readyz and logged by the operation.
struct ProgressView {
    std::string operation;  ///< wal_replay, spool_drain, dead_letter_replay, quarantine_replay
    std::string table;      ///< empty: every table
    std::uint64_t rows_done = 0;
    std::uint64_t rows_left = 0;
    /// rows_left is worked out from the bytes still to read (the write-ahead
    /// logs count bytes, not rows, until they are read).
    bool left_estimated = false;
    double rows_per_second = 0;         ///< rows_done over the time since the start
    std::optional<double> eta_seconds;  ///< unknown until a row is done
    double elapsed_seconds = 0;
};

/// "12,000 rows done, 28,000 left (30%), 3,000 rows/s, about 9 s left".
std::string describe(const ProgressView& v);

/// An operation's name in words ("replaying the write-ahead logs" for
/// wal_replay); an unknown name as it is.
std::string operation_words(std::string_view operation);

/// One long operation. Its owner advances it from one thread; views are
/// taken from any thread.
class Progress {
  public:
    using Clock = std::chrono::steady_clock;

    Progress(std::string operation, std::string table, Clock::time_point started);

    void advance(std::uint64_t rows) { done_.fetch_add(rows, std::memory_order_relaxed); }
    void set_done(std::uint64_t rows) { done_.store(rows, std::memory_order_relaxed); }
    /// Rows left, counted exactly.
    void set_left(std::uint64_t rows);
    /// Bytes read so far of `total`: rows left are estimated from them.
    void set_bytes(std::uint64_t done, std::uint64_t total);

    ProgressView view(Clock::time_point now) const;
    /// True at most once per `interval` (and not at the start): the owner
    /// logs a progress line then.
    bool due(Clock::time_point now, Clock::duration interval);

  private:
    const std::string operation_;
    const std::string table_;
    const Clock::time_point started_;
    std::atomic<std::uint64_t> done_{0};
    std::atomic<std::uint64_t> left_{0};
    std::atomic<std::uint64_t> bytes_done_{0};
    std::atomic<std::uint64_t> bytes_total_{0};
    std::atomic<bool> by_bytes_{false};
    Clock::time_point last_due_;  // the owner's thread only
};

/// The long operations running now. Each is registered while it runs; a
/// handful at most (one WAL replay, one spool drain, a replay per table).
class ProgressBoard {
  public:
    using Clock = Progress::Clock;

    std::shared_ptr<Progress> begin(std::string operation, std::string table, Clock::time_point now)
        EXCLUDES(mutex_);
    void end(const std::shared_ptr<Progress>& p) EXCLUDES(mutex_);
    std::vector<ProgressView> views(Clock::time_point now) const EXCLUDES(mutex_);

  private:
    mutable Mutex mutex_;
    std::vector<std::shared_ptr<Progress>> running_ GUARDED_BY(mutex_);
};

/// Registers an operation on a board for as long as it lives.
class ProgressScope {
  public:
    ProgressScope(ProgressBoard* board, std::string operation, std::string table);
    ~ProgressScope();
    ProgressScope(const ProgressScope&) = delete;
    ProgressScope& operator=(const ProgressScope&) = delete;

    Progress& operator*() const { return *progress_; }
    Progress* operator->() const { return progress_.get(); }

  private:
    ProgressBoard* board_;
    std::shared_ptr<Progress> progress_;
};

}  // namespace chgate
