#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "util/Mutex.hpp"

namespace chgate::flush {

/// How the batches holding a request's rows ended, for ack: committed.
struct CommitOutcome {
    bool committed = true;
    bool rejected = false;  ///< ClickHouse refused rows (bad data): 502, not 504
    std::string error;      ///< ClickHouse's error when not committed
};

/// A request waiting for every batch that holds its rows to be committed. Each
/// batch reports once; the callback runs when the last one has. Thread-safe.
class CommitWaiter {
  public:
    explicit CommitWaiter(std::function<void(const CommitOutcome&)> done)
        : done_(std::move(done)) {}

    /// One more batch holds some of the request's rows (called while appending).
    void add_batch() { pending_.fetch_add(1, std::memory_order_relaxed); }

    /// A batch holding some of the rows is finished.
    void batch_finished(const CommitOutcome& outcome) {
        {
            LockGuard lock(mutex_);
            if (!outcome.committed && outcome_.committed) outcome_ = outcome;
        }
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish();
    }

    /// Called once appending is over: with no batches (nothing to wait for) it completes.
    void arm() {
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish();
    }

  private:
    void finish() {
        CommitOutcome copy;
        {
            LockGuard lock(mutex_);
            copy = outcome_;
        }
        done_(copy);
    }

    // Starts at 1 for the appender itself, so the count cannot reach 0 before arm().
    std::atomic<int> pending_{1};
    Mutex mutex_;
    CommitOutcome outcome_ GUARDED_BY(mutex_);  // the first failure, if any
    std::function<void(const CommitOutcome&)> done_;
};

using CommitWaiterPtr = std::shared_ptr<CommitWaiter>;

}  // namespace chgate::flush
