#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "util/Mutex.hpp"

namespace chgate {

/// A thread of its own that runs one task again and again: each run says when
/// it wants the next; wake_by() brings the next run forward (lock-free when it
/// is already due by then); stop() asks for one last run, then joins. Used by
/// the seal timer, the write-ahead log's writer, the spool replayer and the
/// ClickHouse monitor, which differ only in what a run does.
class PeriodicTask {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;
    /// One run. `last` is true once, for the run after stop(): finish up and
    /// return (the returned time is then ignored).
    using Run = std::function<TimePoint(bool last)>;

    PeriodicTask() = default;
    ~PeriodicTask() { stop(); }
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

    /// Starts the thread, named `name`; the first run is at `first`.
    void start(std::string name, Run run, TimePoint first);
    /// The next run starts no later than `t`.
    void wake_by(TimePoint t);
    /// The next run starts now, or as soon as the current one ends.
    void wake() { wake_by(TimePoint::min()); }
    /// Runs the task once more with `last`, then joins; idempotent.
    void stop() EXCLUDES(mutex_);
    /// Whether the thread runs (started and not stopped).
    bool running() const { return running_.load(std::memory_order_acquire); }

  private:
    void loop(const Run& run) EXCLUDES(mutex_);

    Mutex mutex_;
    CondVar cv_;
    bool stopping_ GUARDED_BY(mutex_) = false;
    // When the next run is due, as a count of ticks. Written under mutex_ (so
    // that a wake is never lost between a check and a wait); read without it
    // by wake_by()'s fast path. While a run is in progress it reads "never",
    // so that any wake during the run brings on another at once.
    std::atomic<TimePoint::rep> next_{TimePoint::max().time_since_epoch().count()};
    std::atomic<bool> running_{false};
    std::thread thread_;
};

}  // namespace chgate
