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
        if (failed_) {
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

bool Wal::open_segment(std::uint64_t first_lsn) {
    const auto path = dir_ / segment_name(first_lsn);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        last_error_ = "cannot create " + path.string() + ": " + std::strerror(errno);
        return false;
    }
    sync_dir(dir_);
    segment_bytes_ = 0;
    segments_.push_back({first_lsn, path, 0});
    return true;
}

void Wal::close_segment() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
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
    bool ok = true;
    if (!writing_.empty()) {
        if (fd_ < 0) ok = open_segment(first);
        if (ok) {
            std::string error;
            ok = write_all(fd_, writing_, error);
            if (!ok)
                last_error_ = "write to " + segments_.back().path.string() + " failed: " + error;
        }
        if (ok) {
            segment_bytes_ += writing_.size();
            segments_.back().bytes += writing_.size();
            disk_bytes_.add(writing_.size());
            dirty_ = true;
        }
    }
    if (ok && sync && dirty_) {
        if (::fdatasync(fd_) != 0) {
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
            failed_ = true;
            done.swap(waiters_);
        } else if (!writing_.empty()) {
            durable_lsn_.store(last);
            auto split = std::partition(waiters_.begin(), waiters_.end(),
                                        [last](const auto& w) { return w.first > last; });
            for (auto it = split; it != waiters_.end(); ++it)
                done.push_back(std::move(*it));
            waiters_.erase(split, waiters_.end());
        }
    }
    writing_.clear();
    if (!ok) LOG_ERROR << "write-ahead log " << dir_.string() << ": " << last_error_;
    for (auto& [lsn, callback] : done)
        callback(ok);
    // Start a new segment once this one is full; the old one is synced first.
    if (ok && fd_ >= 0 && segment_bytes_ >= options_.segment_size) {
        if (dirty_ && options_.fsync != FsyncMode::never) ::fdatasync(fd_);
        dirty_ = false;
        close_segment();
    }
    return true;
}

void Wal::sync_if_dirty() {
    if (fd_ >= 0 && dirty_) {
        ::fdatasync(fd_);
        dirty_ = false;
    }
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
