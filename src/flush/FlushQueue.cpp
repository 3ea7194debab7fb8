#include "flush/FlushQueue.hpp"

#include <algorithm>

namespace chgate::flush {

void FlushQueue::insert_locked(Batch b) {
    if (b.not_before > Clock::now()) {
        delayed_.push_back(std::move(b));
        std::push_heap(delayed_.begin(), delayed_.end(), DelayOrder{});
    } else {
        ready_.push_back(std::move(b));
        std::push_heap(ready_.begin(), ready_.end(), ReadyOrder{});
    }
}

void FlushQueue::push(Batch b) {
    {
        LockGuard lock(mutex_);
        insert_locked(std::move(b));
    }
    // One waiter suffices: whoever wakes takes a ready batch or re-times its wait
    // on the earliest delayed one.
    cv_.notify_one();
}

void FlushQueue::retry(Batch b) {
    {
        LockGuard lock(mutex_);
        --in_hand_;
        insert_locked(std::move(b));
    }
    cv_.notify_one();
}

void FlushQueue::finish() {
    bool drained = false;
    {
        LockGuard lock(mutex_);
        --in_hand_;
        drained = closed_ && in_hand_ == 0 && ready_.empty() && delayed_.empty();
    }
    // Only the last batch of a drain matters to waiters: they may all exit now.
    if (drained) cv_.notify_all();
}

void FlushQueue::promote_due(TimePoint now) {
    while (!delayed_.empty() && delayed_.front().not_before <= now) {
        std::pop_heap(delayed_.begin(), delayed_.end(), DelayOrder{});
        ready_.push_back(std::move(delayed_.back()));
        delayed_.pop_back();
        std::push_heap(ready_.begin(), ready_.end(), ReadyOrder{});
    }
}

std::optional<Batch> FlushQueue::pop() {
    UniqueLock lock(mutex_);
    for (;;) {
        if (aborted_) return std::nullopt;
        promote_due(Clock::now());
        if (!ready_.empty()) {
            std::pop_heap(ready_.begin(), ready_.end(), ReadyOrder{});
            Batch b = std::move(ready_.back());
            ready_.pop_back();
            ++in_hand_;
            return b;
        }
        // Closed and drained: nothing queued, delayed, or out for a try that may fail.
        if (closed_ && delayed_.empty() && in_hand_ == 0) {
            cv_.notify_all();
            return std::nullopt;
        }
        if (delayed_.empty()) {
            cv_.wait(lock);
        } else {
            // A copy: wait_until keeps a reference, and delayed_ may reallocate
            // while the lock is released.
            const auto until = delayed_.front().not_before;
            cv_.wait_until(lock, until);
        }
    }
}

void FlushQueue::close() {
    {
        LockGuard lock(mutex_);
        closed_ = true;
    }
    cv_.notify_all();
}

void FlushQueue::abort() {
    {
        LockGuard lock(mutex_);
        aborted_ = true;
    }
    cv_.notify_all();
}

std::vector<Batch> FlushQueue::take_all() {
    LockGuard lock(mutex_);
    std::vector<Batch> all = std::move(ready_);
    for (auto& b : delayed_)
        all.push_back(std::move(b));
    ready_.clear();
    delayed_.clear();
    return all;
}

void FlushQueue::release_delayed(const BatchOwner* owner) {
    {
        LockGuard lock(mutex_);
        const auto now = Clock::now();
        bool changed = false;
        for (auto& b : delayed_) {
            if (b.owner.get() == owner && b.not_before > now) {
                b.not_before = now;
                changed = true;
            }
        }
        if (!changed) return;
        std::make_heap(delayed_.begin(), delayed_.end(), DelayOrder{});
        promote_due(now);
    }
    cv_.notify_all();
}

std::size_t FlushQueue::size() const {
    LockGuard lock(mutex_);
    return ready_.size() + delayed_.size();
}

}  // namespace chgate::flush
