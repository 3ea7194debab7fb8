#include "store/WalWriter.hpp"

#include "util/ThreadName.hpp"

namespace chgate::store {

using namespace std::chrono_literals;

WalWriter::WalWriter(FsyncMode mode, std::chrono::milliseconds fsync_interval)
    : mode_(mode), fsync_interval_(fsync_interval) {}

WalWriter::~WalWriter() {
    stop();
}

void WalWriter::add(std::shared_ptr<Wal> wal) {
    std::lock_guard lock(mutex_);
    wals_.push_back(std::move(wal));
}

bool WalWriter::retire(const std::shared_ptr<Wal>& wal) {
    std::promise<bool> done;
    bool queued = false;
    {
        std::lock_guard lock(mutex_);
        std::erase(wals_, wal);
        // Queued while the thread runs: it takes the queue under this lock
        // each round, including the round in which it sees a stop.
        if (running_) {
            retiring_.emplace_back(wal, &done);
            queued = true;
            pending_.store(true);
            cv_.notify_one();
        }
    }
    // Not started, or stopped: nothing else writes the log, so do it here.
    if (!queued) return wal->retire();
    return done.get_future().get();
}

void WalWriter::notify() {
    // Only the first appender after the writer took the last batch pays for the lock.
    if (pending_.exchange(true)) return;
    std::lock_guard lock(mutex_);
    cv_.notify_one();
}

void WalWriter::start() {
    {
        std::lock_guard lock(mutex_);
        running_ = true;
    }
    thread_ = std::thread([this] {
        set_thread_name("chgate-wal");
        run();
    });
}

void WalWriter::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void WalWriter::run() {
    const bool sync_each = mode_ == FsyncMode::always;
    auto last_sync = std::chrono::steady_clock::now();
    auto last_gc = last_sync;
    std::vector<std::shared_ptr<Wal>> wals;
    std::vector<std::pair<std::shared_ptr<Wal>, std::promise<bool>*>> retiring;
    for (;;) {
        bool stopping = false;
        {
            std::unique_lock lock(mutex_);
            // Wake for records, for a stop, and now and then for interval syncs
            // and deleting finished segments.
            cv_.wait_for(lock,
                         mode_ == FsyncMode::interval ? std::min(fsync_interval_, 1000ms) : 1000ms,
                         [this] { return pending_.load() || stopping_; });
            pending_.store(false);
            stopping = stopping_;
            wals = wals_;
            retiring.swap(retiring_);
            if (stopping) running_ = false;  // retire() does the work itself from now on
        }
        for (auto& [wal, done] : retiring)
            done->set_value(wal->retire());
        retiring.clear();
        for (const auto& wal : wals) {
            wal->flush(sync_each);
        }
        const auto now = std::chrono::steady_clock::now();
        if (mode_ == FsyncMode::interval && now - last_sync >= fsync_interval_) {
            for (const auto& wal : wals)
                wal->sync_if_dirty();
            last_sync = now;
        }
        if (now - last_gc >= 1s || stopping) {
            for (const auto& wal : wals)
                wal->collect_garbage();
            last_gc = now;
        }
        if (stopping && !pending_.load()) {
            // A clean stop leaves everything synced, whatever the mode.
            for (const auto& wal : wals) {
                wal->retry_now();
                wal->flush(mode_ != FsyncMode::never);
                wal->collect_garbage();
            }
            return;
        }
    }
}

}  // namespace chgate::store
