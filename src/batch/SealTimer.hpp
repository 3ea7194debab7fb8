#pragma once

#include "batch/TableRegistry.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::flush {
class FlushQueue;
}
namespace chgate::store {
class Storage;
}

namespace chgate::batch {

/// Seals the buffers whose deadline has passed, from a thread of its own;
/// now and then it also closes idle buffers and expires old dead letters.
/// An appender whose buffer gains an earlier deadline wakes it (lock-free
/// when it is already due by then).
class SealTimer {
  public:
    SealTimer(TableRegistry& registry, flush::FlushQueue& queue, store::Storage* storage);
    ~SealTimer() { stop(); }

    void start();
    void stop() { task_.stop(); }
    /// Runs the timer by `deadline` at the latest.
    void wake_by(TimePoint deadline) { task_.wake_by(deadline); }
    /// Runs it now: deadlines may have moved earlier (a reload).
    void wake() { task_.wake(); }

  private:
    /// One run: seals what is due; returns when to run again.
    TimePoint seal_due();
    /// Closes idle buffers and expires dead letters, a few times per idle TTL.
    void tidy(TimePoint now);

    TableRegistry& registry_;
    flush::FlushQueue& queue_;
    store::Storage* const storage_;
    PeriodicTask task_;
    TimePoint next_tidy_{};  // the timer thread's own
};

}  // namespace chgate::batch
