#include "store/Wal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "store/Files.hpp"
#include "store/WalWriter.hpp"
#include "util/Log.hpp"

namespace chgate::store {

std::string segment_name(std::uint64_t first_lsn) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%020llu.wal", static_cast<unsigned long long>(first_lsn));
    return buf;
}

std::vector<SegmentFile> list_segments(const std::filesystem::path& dir) {
    std::vector<SegmentFile> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const auto name = entry.path().filename().string();
        if (name.size() != 24 || !name.ends_with(".wal")) continue;
        if (name.find_first_not_of("0123456789") != 20) continue;
        std::error_code size_ec;
        const auto bytes = entry.file_size(size_ec);
        out.push_back({std::stoull(name.substr(0, 20)), entry.path(), size_ec ? 0 : bytes});
    }
    std::sort(out.begin(), out.end(),
              [](const SegmentFile& a, const SegmentFile& b) { return a.first_lsn < b.first_lsn; });
    return out;
}

Wal::Wal(std::filesystem::path dir, WalOptions options, std::uint64_t next_lsn,
         std::vector<SegmentFile> existing, WalWriter* writer,
         std::atomic<std::uint64_t>* disk_total)
    : dir_(std::move(dir)),
      options_(options),
      writer_(writer),
      next_lsn_(std::max<std::uint64_t>(next_lsn, 1)),
      disk_bytes_(disk_total) {
    durable_lsn_.store(next_lsn_ - 1);
    std::uint64_t bytes = 0;
    for (auto& s : existing) {
        bytes += s.bytes;
        segments_.push_back(std::move(s));
    }
    disk_bytes_.add(bytes);
}

Wal::~Wal() {
    close_segment();
}

std::uint64_t Wal::append_locked(RecordType type, std::string_view payload) {
    const auto lsn = next_lsn_++;
    if (tail_.empty()) tail_first_lsn_ = lsn;
    tail_last_lsn_ = lsn;
    encode_record(tail_, type, lsn, payload);
    return lsn;
}

std::uint64_t Wal::append_data(std::string_view rows) {
    std::uint64_t lsn = 0;
    {
        std::lock_guard lock(mutex_);
        lsn = append_locked(RecordType::data, rows);
        if (unsealed_first_ == 0) unsealed_first_ = lsn;
    }
    if (writer_ != nullptr) writer_->notify();
    return lsn;
}

void Wal::append_seal(std::uint64_t batch_id, std::uint64_t first_lsn, std::uint64_t last_lsn) {
    std::lock_guard lock(mutex_);
    append_locked(RecordType::seal,
                  encode_range({batch_id, first_lsn, last_lsn}, RecordType::seal));
    outstanding_[first_lsn] = last_lsn;
    // A seal takes every unsealed record: the buffer is empty afterwards.
    unsealed_first_ = 0;
}

void Wal::adopt_batch(std::uint64_t, std::uint64_t first_lsn, std::uint64_t last_lsn) {
    std::lock_guard lock(mutex_);
    outstanding_[first_lsn] = last_lsn;
}

void Wal::append_done(const BatchRange& range) {
    std::lock_guard lock(mutex_);
    append_locked(RecordType::done, encode_range(range, RecordType::done));
    outstanding_.erase(range.first_lsn);
}

void Wal::when_durable(std::uint64_t lsn, DurableCallback callback) {
    bool now = false;
    bool ok = true;
    {
        std::lock_guard lock(mutex_);
        if (failed_ || lsn <= dropped_upto_) {
            // The log is down, or was when this record would have been written.
            now = true;
            ok = false;
        } else if (durable_lsn_.load() >= lsn) {
            now = true;
        } else {
            waiters_.emplace_back(lsn, std::move(callback));
        }
    }
    if (now) callback(ok);
}

bool Wal::has_pending() const {
    std::lock_guard lock(mutex_);
    return !tail_.empty();
}

std::string Wal::failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
}

bool Wal::open_segment(std::uint64_t first_lsn) {
    const auto path = dir_ / segment_name(first_lsn);
    // Never over another segment: its name is the first LSN, which only grows.
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        last_error_ = "cannot create " + path.string() + ": " + std::strerror(errno);
        return false;
    }
    segment_bytes_ = 0;
    allocated_end_ = 0;
    segments_.push_back({first_lsn, path, 0});
    extend_preallocation();
    sync_dir(dir_);
    return true;
}

void Wal::close_segment() {
    if (fd_ < 0) return;
    // The zeros past the records were never written to: give them back. If
    // this is lost in a crash, replay reads the zeros as the log's clean end.
    if (allocated_end_ > segment_bytes_) {
        [[maybe_unused]] const auto r = ::ftruncate(fd_, static_cast<off_t>(segment_bytes_));
    }
    ::close(fd_);
    fd_ = -1;
}

void Wal::extend_preallocation() {
    const auto ahead = std::min(options_.preallocate, options_.segment_size);
    if (fd_ < 0 || ahead == 0 || allocated_end_ >= segment_bytes_ + ahead / 2) return;
    constexpr std::uint64_t kPage = 4096;
    const auto from = std::max(allocated_end_, segment_bytes_);
    const auto cap = (options_.segment_size + kPage - 1) / kPage * kPage;
    const auto to = std::min((segment_bytes_ + ahead + kPage - 1) / kPage * kPage, cap);
    if (to <= from) return;
    static const std::string zeros(256 * 1024, '\0');
    for (auto at = from; at < to;) {
        const auto n = std::min<std::uint64_t>(zeros.size(), to - at);
        std::string error;
        // Without the zeros the records still go out, only with slower syncs.
        if (!pwrite_all(fd_, std::string_view(zeros).substr(0, n), at, error)) break;
        at += n;
        allocated_end_ = at;
        dirty_ = true;
    }
    // Start writing the zeros out now, so that the next sync has less to wait for.
    if (allocated_end_ > from)
        ::sync_file_range(fd_, static_cast<off_t>(from), static_cast<off_t>(allocated_end_ - from),
                          SYNC_FILE_RANGE_WRITE);
}

bool Wal::flush(bool sync) {
    std::uint64_t first = 0, last = 0;
    {
        std::lock_guard lock(mutex_);
        if (tail_.empty() && !(sync && dirty_)) return false;
        writing_.swap(tail_);
        first = tail_first_lsn_;
        last = tail_last_lsn_;
    }
    if (down_ && std::chrono::steady_clock::now() < retry_at_) {
        // The log failed and is not tried again yet: these records are not
        // written, and nobody gets a durable ack for them (their requests
        // were answered 503 already: the log is marked failed).
        if (!writing_.empty()) {
            std::lock_guard lock(mutex_);
            dropped_upto_ = std::max(dropped_upto_, last);
        }
        writing_.clear();
        return true;
    }
    bool ok = true;
    if (!writing_.empty()) {
        if (fd_ < 0) ok = open_segment(first);
        if (ok) {
            std::string error;
            ok = pwrite_all(fd_, writing_, segment_bytes_, error);
            if (!ok)
                last_error_ = "write to " + segments_.back().path.string() + " failed: " + error;
        }
        if (ok) {
            segment_bytes_ += writing_.size();
            allocated_end_ = std::max(allocated_end_, segment_bytes_);
            segments_.back().bytes += writing_.size();
            disk_bytes_.add(writing_.size());
            dirty_ = true;
        }
    }
    if (ok && sync && dirty_) {
        if (!sync_file()) {
            ok = false;
            last_error_ = "fdatasync of " + segments_.back().path.string() +
                          " failed: " + std::strerror(errno);
        } else {
            dirty_ = false;
        }
    }
    std::vector<std::pair<std::uint64_t, DurableCallback>> done;
    {
        std::lock_guard lock(mutex_);
        if (!ok) {
            // The records cannot be made durable: nobody waiting gets a durable ack.
            if (!failed_) failure_ = last_error_;
            failed_ = true;
            dropped_upto_ = std::max(dropped_upto_, last);
            done.swap(waiters_);
        } else if (!writing_.empty()) {
            failed_ = false;  // written and synced: the log works (again)
            failure_.clear();
            durable_lsn_.store(last);
            auto split = std::partition(waiters_.begin(), waiters_.end(),
                                        [last](const auto& w) { return w.first > last; });
            for (auto it = split; it != waiters_.end(); ++it)
                done.push_back(std::move(*it));
            waiters_.erase(split, waiters_.end());
        }
    }
    writing_.clear();
    if (!ok) {
        // Try again later, in a new segment: what this one holds past its last
        // good sync is in doubt (replay cuts a torn end). Not at once, and less
        // often while it keeps failing, so that a dead disk does not fill the
        // directory with segments.
        retry_delay_ = down_ ? std::min(retry_delay_ * 2, kMaxRetryDelay) : kFirstRetryDelay;
        retry_at_ = std::chrono::steady_clock::now() + retry_delay_;
        down_ = true;
        dirty_ = false;
        close_segment();
        LOG_ERROR << "write-ahead log " << dir_.string() << ": " << last_error_
                  << "; durable requests answer 503 until a write succeeds (next try in "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(retry_delay_).count()
                  << " ms)";
    } else if (down_) {  // only a write (not an idle sync) gets here while down
        down_ = false;
        LOG_WARN << "write-ahead log " << dir_.string()
                 << ": writing and syncing again; durable requests are accepted again";
    }
    for (auto& [lsn, callback] : done)
        callback(ok);
    // Start a new segment once this one is full; the old one is synced first.
    if (ok && fd_ >= 0 && segment_bytes_ >= options_.segment_size) {
        if (dirty_ && options_.fsync != FsyncMode::never) sync_file();
        dirty_ = false;
        close_segment();
    } else if (ok) {
        extend_preallocation();  // after the answers: not on their path
    }
    return true;
}

void Wal::sync_if_dirty() {
    if (fd_ >= 0 && dirty_) {
        sync_file();
        dirty_ = false;
    }
}

bool Wal::sync_file() {
    const auto start = std::chrono::steady_clock::now();
    const bool ok = ::fdatasync(fd_) == 0;
    if (writer_ != nullptr) writer_->count_sync(std::chrono::steady_clock::now() - start);
    return ok;
}

std::uint64_t Wal::low_water_mark() const {
    std::uint64_t low = next_lsn_;
    if (!outstanding_.empty()) low = std::min(low, outstanding_.begin()->first);
    if (unsealed_first_ != 0) low = std::min(low, unsealed_first_);
    return low;
}

void Wal::collect_garbage() {
    std::uint64_t low = 0;
    {
        std::lock_guard lock(mutex_);
        low = low_water_mark();
    }
    // A segment's records all come before the next segment's first LSN.
    while (segments_.size() >= 2 && segments_[1].first_lsn <= low) {
        std::error_code ec;
        std::filesystem::remove(segments_.front().path, ec);
        disk_bytes_.sub(segments_.front().bytes);
        segments_.pop_front();
    }
    // The newest segment, once closed and wholly finished, can go too.
    if (fd_ < 0 && segments_.size() == 1) {
        std::lock_guard lock(mutex_);
        if (low == next_lsn_ && tail_.empty()) {
            std::error_code ec;
            std::filesystem::remove(segments_.front().path, ec);
            disk_bytes_.sub(segments_.front().bytes);
            segments_.pop_front();
        }
    }
}

}  // namespace chgate::store
