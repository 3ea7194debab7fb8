#include "store/WalWriter.hpp"

namespace chgate::store {

using namespace std::chrono_literals;

WalWriter::WalWriter(FsyncMode mode, std::chrono::milliseconds fsync_interval)
    : mode_(mode), fsync_interval_(fsync_interval) {}

WalWriter::~WalWriter() {
    stop();
}

void WalWriter::add(std::shared_ptr<Wal> wal) {
    LockGuard lock(mutex_);
    wals_.push_back(std::move(wal));
}

bool WalWriter::retire(const std::shared_ptr<Wal>& wal) {
    std::promise<bool> done;
    bool queued = false;
    {
        LockGuard lock(mutex_);
        std::erase(wals_, wal);
        // Queued while the thread runs: it takes the queue under this lock
        // each round, including its last.
        if (running_) {
            retiring_.emplace_back(wal, &done);
            queued = true;
        }
    }
    // Not started, or stopped: nothing else writes the log, so do it here.
    if (!queued) return wal->retire();
    pending_.store(true);
    task_.wake();
    return done.get_future().get();
}

void WalWriter::notify() {
    // Only the first appender after the writer took the last records pays for a wake.
    if (pending_.exchange(true)) return;
    task_.wake();
}

void WalWriter::start() {
    {
        LockGuard lock(mutex_);
        running_ = true;
    }
    last_sync_ = last_gc_ = std::chrono::steady_clock::now();
    task_.start(
        "chgate-wal", [this](bool last) { return write_round(last); },
        std::chrono::steady_clock::now());
}

void WalWriter::stop() {
    task_.stop();
}

std::chrono::steady_clock::time_point WalWriter::write_round(bool last) {
    std::vector<std::shared_ptr<Wal>> wals;
    Retiring retiring;
    pending_.store(false);  // before taking the work: a later notify wakes another round
    {
        LockGuard lock(mutex_);
        wals = wals_;
        retiring.swap(retiring_);
        if (last) running_ = false;  // retire() does the work itself from now on
    }
    for (auto& [wal, done] : retiring)
        done->set_value(wal->retire());
    const bool sync_each = mode_ == FsyncMode::always;
    for (const auto& wal : wals)
        wal->flush(sync_each);
    const auto now = std::chrono::steady_clock::now();
    if (mode_ == FsyncMode::interval && now - last_sync_ >= fsync_interval_) {
        for (const auto& wal : wals)
            wal->sync_if_dirty();
        last_sync_ = now;
    }
    if (now - last_gc_ >= 1s || last) {
        for (const auto& wal : wals)
            wal->collect_garbage();
        last_gc_ = now;
    }
    if (last) {
        // A clean stop leaves everything synced, whatever the mode.
        for (const auto& wal : wals) {
            wal->retry_now();
            wal->flush(mode_ != FsyncMode::never);
            wal->collect_garbage();
        }
    }
    // Records wake it at once; otherwise now and then for interval syncs and
    // deleting finished segments.
    return now + (mode_ == FsyncMode::interval ? std::min(fsync_interval_, 1000ms) : 1000ms);
}

}  // namespace chgate::store
