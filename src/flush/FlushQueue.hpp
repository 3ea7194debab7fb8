#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "flush/Batch.hpp"
#include "util/Mutex.hpp"

namespace chgate::flush {

/// Sealed batches waiting for a flusher. Ready batches leave in priority order
/// (1 first), then oldest first; batches backing off after a failure wait in a
/// second heap until their not_before passes.
class FlushQueue {
  public:
    /// Adds a new batch; it becomes ready at b.not_before.
    void push(Batch b);

    /// Puts back a batch taken by pop() that failed and will be tried again.
    void retry(Batch b);

    /// Reports that a batch taken by pop() is finished (inserted or given up).
    void finish();

    /// Blocks until a batch is ready and returns it, or returns nullopt once the
    /// queue is closed and empty.
    std::optional<Batch> pop();

    /// pop() returns nullopt once everything queued has been taken. Pushes are
    /// still accepted after close (retries of batches already taken).
    void close();

    /// Wakes waiting flushers and makes pop() return nullopt at once, even with
    /// batches left; take_all() then collects what was left.
    void abort();
    std::vector<Batch> take_all();

    std::size_t size() const;

    /// Makes every waiting batch of `owner` ready now (its hold has ended).
    void release_delayed(const BatchOwner* owner);

  private:
    struct ReadyOrder {  // a max-heap: the "largest" batch leaves first
        bool operator()(const Batch& a, const Batch& b) const {
            if (a.priority != b.priority) return a.priority > b.priority;
            return a.first_append > b.first_append;
        }
    };
    struct DelayOrder {
        bool operator()(const Batch& a, const Batch& b) const {
            return a.not_before > b.not_before;
        }
    };
    void promote_due(TimePoint now) REQUIRES(mutex_);
    void insert_locked(Batch b) REQUIRES(mutex_);

    mutable Mutex mutex_;
    CondVar cv_;
    // Guarded by mutex_.
    std::vector<Batch> ready_ GUARDED_BY(mutex_);    // heap by ReadyOrder
    std::vector<Batch> delayed_ GUARDED_BY(mutex_);  // heap by DelayOrder
    bool closed_ GUARDED_BY(mutex_) = false;
    bool aborted_ GUARDED_BY(mutex_) = false;
    int in_hand_ GUARDED_BY(mutex_) = 0;  // popped batches that may still come back as retries
};

}  // namespace chgate::flush
