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
    bool kept = true;
    {
        LockGuard lock(mutex_);
        if (failed_.load()) {
            // Not kept while the log is down: nobody gets a durable ack for it,
            // and keeping the rows would grow with the outage. They are still
            // in the buffer, on their way to ClickHouse.
            lsn = next_lsn_++;
            dropped_upto_ = lsn;
            kept = false;
        } else {
            lsn = append_locked(RecordType::data, rows);
        }
        if (unsealed_first_ == 0) unsealed_first_ = lsn;
    }
    if (kept && writer_ != nullptr) writer_->notify();
    return lsn;
}

std::uint64_t Wal::append_seal(std::uint64_t batch_id, std::uint64_t first_lsn,
                               std::uint64_t last_lsn) {
    LockGuard lock(mutex_);
    const auto lsn = append_locked(RecordType::seal,
                                   encode_range({batch_id, first_lsn, last_lsn}, RecordType::seal));
    outstanding_[first_lsn] = last_lsn;
    // A seal takes every unsealed record: the buffer is empty afterwards.
    unsealed_first_ = 0;
    return lsn;
}

void Wal::adopt_batch(std::uint64_t, std::uint64_t first_lsn, std::uint64_t last_lsn) {
    LockGuard lock(mutex_);
    outstanding_[first_lsn] = last_lsn;
}

void Wal::append_done(const BatchRange& range) {
    LockGuard lock(mutex_);
    append_locked(RecordType::done, encode_range(range, RecordType::done));
    outstanding_.erase(range.first_lsn);
}

void Wal::when_durable(std::uint64_t lsn, DurableCallback callback) {
    bool now = false;
    bool ok = true;
    {
        LockGuard lock(mutex_);
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

std::string Wal::failure() const {
    LockGuard lock(mutex_);
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

void Wal::grow_file_to(std::uint64_t end) {
    if (end <= allocated_end_) return;
    const auto grown = end - allocated_end_;
    segments_.back().bytes += grown;
    disk_bytes_.add(grown);
    allocated_end_ = end;
}

void Wal::close_segment() {
    if (fd_ < 0) return;
    // The zeros past the records were never written to: give them back. If
    // this is lost in a crash, replay reads the zeros as the log's clean end.
    if (allocated_end_ > segment_bytes_ &&
        ::ftruncate(fd_, static_cast<off_t>(segment_bytes_)) == 0) {
        const auto cut = allocated_end_ - segment_bytes_;
        segments_.back().bytes -= std::min(cut, segments_.back().bytes);
        disk_bytes_.sub(cut);
        allocated_end_ = segment_bytes_;
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
        grow_file_to(at);
        dirty_ = true;
    }
    // Start writing the zeros out now, so that the next sync has less to wait for.
    if (allocated_end_ > from)
        ::sync_file_range(fd_, static_cast<off_t>(from), static_cast<off_t>(allocated_end_ - from),
                          SYNC_FILE_RANGE_WRITE);
}

bool Wal::flush(bool sync) {
    if (down_ && std::chrono::steady_clock::now() < retry_at_) {
        bound_tail_while_down();
        return false;
    }
    Handover h;
    {
        LockGuard lock(mutex_);
        if (tail_.empty() && !(sync && dirty_) && !down_) return false;
        writing_.swap(tail_);
        h.first = tail_first_lsn_;
        h.last = tail_last_lsn_;
        h.next = next_lsn_;
    }
    h.records = !writing_.empty();
    // A log that is down is tried again with or without records to write, so
    // that it comes back (and durable requests are taken again) by itself.
    h.probing = down_ && !h.records;
    const bool ok = write_handover(h, sync);
    Waiters done = ok ? settle_written(h) : keep_unwritten(h);
    writing_.clear();
    if (ok && down_) {
        down_ = false;
        LOG_WARN << "write-ahead log " << dir_.string()
                 << ": writing and syncing again; durable requests are accepted again";
    }
    for (auto& [lsn, callback] : done)
        callback(ok);
    if (ok) finish_segment_or_preallocate();  // after the answers: not on their path
    return true;
}

bool Wal::write_handover(const Handover& h, bool sync) {
    bool ok = true;
    if (fd_ < 0 && (h.records || h.probing)) ok = open_segment(h.records ? h.first : h.next);
    // The zeros preallocated in the new segment are the probe's write; without
    // them, a page of its own.
    if (ok && h.probing && allocated_end_ == 0) ok = write_probe();
    if (ok && h.records) {
        std::string error;
        ok = pwrite_all(fd_, writing_, segment_bytes_, error);
        if (ok) {
            segment_bytes_ += writing_.size();
            grow_file_to(segment_bytes_);  // past the preallocated zeros, if it went
            dirty_ = true;
        } else {
            last_error_ = "write to " + segments_.back().path.string() + " failed: " + error;
        }
    }
    const bool sync_now = sync || (h.probing && options_.fsync != FsyncMode::never);
    if (ok && sync_now && dirty_) {
        if (sync_file()) {
            dirty_ = false;
        } else {
            ok = false;
            note_sync_failure();
        }
    }
    return ok;
}

Wal::Waiters Wal::settle_written(const Handover& h) {
    Waiters done;
    if (!h.records && !h.probing) return done;
    LockGuard lock(mutex_);
    failed_ = false;  // written and synced: the log works (again)
    failure_.clear();
    if (!h.records) return done;
    durable_lsn_.store(h.last);
    auto split = std::partition(waiters_.begin(), waiters_.end(),
                                [last = h.last](const auto& w) { return w.first > last; });
    for (auto it = split; it != waiters_.end(); ++it)
        done.push_back(std::move(*it));
    waiters_.erase(split, waiters_.end());
    return done;
}

Wal::Waiters Wal::keep_unwritten(const Handover& h) {
    if (h.records) {
        // Kept, to go out first in the next segment: its seal and done records
        // spare the next start from sending batches again. Its data records
        // may be written twice then (replay skips repeats).
        LockGuard lock(mutex_);
        if (tail_.empty()) tail_last_lsn_ = h.last;
        tail_.insert(0, writing_);
        tail_first_lsn_ = h.first;
    }
    // A segment opened for these records (or for the probe) holds nothing that
    // is not written again, and the next one needs its name.
    const bool opened_now =
        fd_ >= 0 && segments_.back().first_lsn == (h.records ? h.first : h.next);
    return go_down(opened_now);
}

void Wal::finish_segment_or_preallocate() {
    if (fd_ < 0) return;
    if (segment_bytes_ < options_.segment_size) {
        extend_preallocation();
        return;
    }
    // Start a new segment once this one is full; the old one is synced first.
    if (dirty_ && options_.fsync != FsyncMode::never && !sync_file()) {
        note_sync_failure();
        for (auto& [lsn, callback] : go_down(false))
            callback(false);
        return;
    }
    dirty_ = false;
    close_segment();
}

void Wal::note_sync_failure() {
    last_error_ =
        "fdatasync of " + segments_.back().path.string() + " failed: " + std::strerror(errno);
}

bool Wal::write_probe() {
    static const std::string page(4096, '\0');
    std::string error;
    if (!pwrite_all(fd_, page, segment_bytes_, error)) {
        last_error_ = "write to " + segments_.back().path.string() + " failed: " + error;
        return false;
    }
    grow_file_to(segment_bytes_ + page.size());
    dirty_ = true;
    return true;
}

Wal::Waiters Wal::go_down(bool discard_segment) {
    Waiters failed;
    {
        LockGuard lock(mutex_);
        if (!failed_) failure_ = last_error_;
        failed_ = true;
        // Whatever was appended so far gets no durable ack, even once written.
        dropped_upto_ = next_lsn_ - 1;
        failed.swap(waiters_);
    }
    // Try again later, in a new segment: what this one holds past its last
    // good sync is in doubt (replay cuts a torn end; after a failed fdatasync
    // the kernel may have dropped the pages, and a second one would not say
    // so). Not at once, and less often while it keeps failing, so that a dead
    // disk does not fill the directory with segments.
    retry_delay_ = down_ ? std::min(retry_delay_ * 2, kMaxRetryDelay) : kFirstRetryDelay;
    retry_at_ = std::chrono::steady_clock::now() + retry_delay_;
    down_ = true;
    dirty_ = false;
    if (discard_segment) {
        ::close(fd_);
        fd_ = -1;
        std::error_code ec;
        std::filesystem::remove(segments_.back().path, ec);
        if (ec) {
            LOG_ERROR << "write-ahead log " << dir_.string() << ": cannot remove "
                      << segments_.back().path.string() << ": " << ec.message();
        }
        disk_bytes_.sub(segments_.back().bytes);
        segments_.pop_back();
    } else {
        close_segment();
    }
    LOG_ERROR << "write-ahead log " << dir_.string() << ": " << last_error_
              << (options_.fsync == FsyncMode::always
                      ? ""
                      : "; records written since the last good sync may be lost in a crash")
              << "; durable requests answer 503 until a write succeeds (next try in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(retry_delay_).count()
              << " ms)";
    return failed;
}

void Wal::bound_tail_while_down() {
    std::size_t dropped = 0;
    {
        LockGuard lock(mutex_);
        if (tail_.size() <= options_.segment_size) return;
        dropped = tail_.size();
        dropped_upto_ = std::max(dropped_upto_, tail_last_lsn_);
        std::string().swap(tail_);
    }
    LOG_ERROR << "write-ahead log " << dir_.string() << ": down for long; dropped the " << dropped
              << " bytes of records kept for it (batch seals and commits): the next start may "
                 "send batches again that ClickHouse already has";
}

void Wal::sync_if_dirty() {
    if (fd_ < 0 || !dirty_) return;
    if (sync_file()) {
        dirty_ = false;
        return;
    }
    last_error_ =
        "fdatasync of " + segments_.back().path.string() + " failed: " + std::strerror(errno);
    for (auto& [lsn, callback] : go_down(false))
        callback(false);
}

bool Wal::sync_file() {
    const auto start = std::chrono::steady_clock::now();
    const bool ok = options_.sync(fd_) == 0;
    const int error = errno;
    if (writer_ != nullptr) writer_->count_sync(std::chrono::steady_clock::now() - start);
    errno = error;
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
        LockGuard lock(mutex_);
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
        LockGuard lock(mutex_);
        if (low == next_lsn_ && tail_.empty()) {
            std::error_code ec;
            std::filesystem::remove(segments_.front().path, ec);
            disk_bytes_.sub(segments_.front().bytes);
            segments_.pop_front();
        }
    }
}

bool Wal::retire() {
    retry_now();
    flush(options_.fsync != FsyncMode::never);
    close_segment();
    collect_garbage();
    {
        LockGuard lock(mutex_);
        if (low_water_mark() != next_lsn_ || !tail_.empty()) {
            LOG_WARN << "write-ahead log " << dir_.string()
                     << ": closed with unfinished batches; kept for the next start";
            return false;
        }
    }
    std::uint64_t bytes = 0;
    for (const auto& s : segments_)
        bytes += s.bytes;
    segments_.clear();
    disk_bytes_.sub(bytes);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    if (ec) {
        LOG_WARN << "write-ahead log " << dir_.string() << ": cannot remove: " << ec.message();
        return false;
    }
    return true;
}

}  // namespace chgate::store
