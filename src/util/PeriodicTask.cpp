#include "util/PeriodicTask.hpp"

#include "util/ThreadName.hpp"

namespace chgate {

namespace {
PeriodicTask::TimePoint at(PeriodicTask::TimePoint::rep ticks) {
    return PeriodicTask::TimePoint(PeriodicTask::TimePoint::duration(ticks));
}
}  // namespace

void PeriodicTask::start(std::string name, Run run, TimePoint first) {
    {
        LockGuard lock(mutex_);
        stopping_ = false;
        next_.store(first.time_since_epoch().count());
    }
    running_.store(true, std::memory_order_release);
    thread_ = std::thread([this, name = std::move(name), run = std::move(run)] {
        set_thread_name(name);
        loop(run);
    });
}

void PeriodicTask::wake_by(TimePoint t) {
    const auto ticks = t.time_since_epoch().count();
    if (ticks >= next_.load()) return;  // already due by then
    {
        LockGuard lock(mutex_);
        if (ticks >= next_.load()) return;
        next_.store(ticks);
    }
    cv_.notify_one();
}

void PeriodicTask::stop() {
    {
        LockGuard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    running_.store(false, std::memory_order_release);
}

void PeriodicTask::loop(const Run& run) {
    UniqueLock lock(mutex_);
    while (!stopping_) {
        const auto due = at(next_.load());
        const auto now = std::chrono::steady_clock::now();
        if (now < due) {
            // A wake, a stop, or the time: look again. (At most an hour at a
            // time, so that "never" stays far from the clock's overflow.)
            cv_.wait_until(lock, std::min(due, now + std::chrono::hours(1)));
            continue;
        }
        next_.store(TimePoint::max().time_since_epoch().count());
        lock.unlock();
        const auto want = run(false);
        lock.lock();
        // A wake during the run set next_ to its time: keep the earlier.
        if (want.time_since_epoch().count() < next_.load()) {
            next_.store(want.time_since_epoch().count());
        }
    }
    lock.unlock();
    run(true);
}

}  // namespace chgate
