#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.hpp"

#include <unistd.h>

#include "store/DiskCounter.hpp"
#include "store/WalFormat.hpp"
#include "util/Mutex.hpp"

namespace chgate::store {

class WalWriter;

using FsyncMode = config::FsyncMode;

struct WalOptions {
    std::uint64_t segment_size = 16ull << 20;
    FsyncMode fsync = FsyncMode::always;
    /// Zeros written ahead of the records in the open segment (at most
    /// segment_size). Records then overwrite blocks the file already has, so a
    /// sync writes data only, not the file's size and block map as well (on
    /// the ext4 VM measured, syncs took about half as long). 0 turns it off.
    std::uint64_t preallocate = 1ull << 20;
    /// fdatasync(2); tests put a failing one here, as a dying disk would be.
    int (*sync)(int fd) = ::fdatasync;
};

/// A segment already on disk when the log is opened.
struct SegmentFile {
    std::uint64_t first_lsn = 0;
    std::filesystem::path path;
    std::uint64_t bytes = 0;
};

/// One table buffer's write-ahead log. Appenders add records to an in-memory
/// tail under a short lock; the WalWriter thread writes the tail out (and
/// syncs it, per FsyncMode) and then runs the callbacks of requests waiting
/// for their records to be durable. Segments are deleted once every batch
/// whose rows they hold is done.
class Wal {
  public:
    /// Called with true once the record is durable, false if writing failed.
    using DurableCallback = std::function<void(bool ok)>;

    /// `writer` (may be null in tests) is told whenever records are appended;
    /// `disk_total` (may be null) sums the bytes of every log and the spool.
    Wal(std::filesystem::path dir, WalOptions options, std::uint64_t next_lsn,
        std::vector<SegmentFile> existing, WalWriter* writer,
        std::atomic<std::uint64_t>* disk_total = nullptr);
    ~Wal();
    Wal(const Wal&) = delete;
    Wal& operator=(const Wal&) = delete;

    // --- Appenders. The caller keeps records of one buffer in order (it holds
    // the TableBuffer's mutex), so every batch is a contiguous LSN range.

    /// Appends a data record of NDJSON rows; returns its LSN.
    std::uint64_t append_data(std::string_view rows);
    /// Records that the rows in [first, last] became batch `id`; returns the
    /// seal record's LSN.
    std::uint64_t append_seal(std::uint64_t batch_id, std::uint64_t first_lsn,
                              std::uint64_t last_lsn);
    /// For a batch rebuilt at replay: in flight again, its records on disk already.
    void adopt_batch(std::uint64_t batch_id, std::uint64_t first_lsn, std::uint64_t last_lsn);

    // --- Flushers, in any order.

    /// Records that a batch is finished, so its records need no replay.
    void append_done(const BatchRange& range);

    /// Runs `callback` once `lsn` is durable: on the writer thread, or at once.
    void when_durable(std::uint64_t lsn, DurableCallback callback);

    // --- The writer thread only.

    /// Writes the tail out; syncs when `sync`. Returns whether anything was
    /// written. While the log is down, waits for the next try: then writes
    /// the tail (or, with none, a page of zeros) to a new segment, and syncs.
    bool flush(bool sync);
    /// fdatasync if written since the last sync (for FsyncMode::interval).
    void sync_if_dirty();
    /// A log that is down is tried again at the next flush, without waiting
    /// (at a stop: the records kept for it are written if the disk lets them).
    void retry_now() { retry_at_ = {}; }
    /// Deletes segments that hold only finished batches.
    void collect_garbage();
    /// The log's buffer is closed: writes what is left, closes the segment,
    /// and removes the directory if every batch is finished (else keeps it
    /// for the next start's replay). Returns whether it was removed.
    bool retire();

    /// True from a failed write or sync until a later write and sync succeed
    /// (tried after 1 s, then less often, up to every 10 s, in a new segment).
    /// Meanwhile durable acks fail, and data records are not kept (their rows
    /// are still in the buffer); seal and done records are kept for the next
    /// segment, up to segment_size.
    bool failed() const { return failed_.load(std::memory_order_relaxed); }
    /// Empty while the log works; after a write or sync failed, why.
    std::string failure() const;
    std::uint64_t disk_bytes() const { return disk_bytes_.load(); }
    std::uint64_t durable_lsn() const { return durable_lsn_.load(); }
    const std::filesystem::path& dir() const { return dir_; }

  private:
    using Waiters = std::vector<std::pair<std::uint64_t, DurableCallback>>;

    /// The tail a flush took from the io threads, and what it is for.
    struct Handover {
        std::uint64_t first = 0;  ///< its first and last LSN, if it has records
        std::uint64_t last = 0;
        std::uint64_t next = 0;  ///< the next LSN to be given out
        bool records = false;    ///< writing_ holds records
        bool probing = false;    ///< none, but the log is down: try the disk again
    };

    std::uint64_t append_locked(RecordType type, std::string_view payload) REQUIRES(mutex_);
    /// Opens a segment if needed, writes writing_ (or the probe) and syncs
    /// when asked; false, with last_error_ set, when the disk refused.
    bool write_handover(const Handover& h, bool sync);
    /// After a write that worked: the log is up, and the waiters up to its
    /// last LSN are returned, to be answered.
    Waiters settle_written(const Handover& h);
    /// After a write that failed: its records go back in front of the tail,
    /// and the log goes down. Returns the waiters, to be failed.
    Waiters keep_unwritten(const Handover& h);
    /// A full segment is synced and closed; one with room gets its zeros ahead.
    void finish_segment_or_preallocate();
    /// last_error_ for a failed fdatasync of the open segment (from errno).
    void note_sync_failure();
    bool open_segment(std::uint64_t first_lsn);
    /// Writes a page of zeros to the segment just opened (when preallocation
    /// wrote none): does the disk take writes?
    bool write_probe();
    /// After a failed write or sync (last_error_ says why): marks the log
    /// failed and schedules the next try. Returns the waiters, to be failed.
    /// `discard_segment`: the open segment holds nothing that is not going to
    /// be written again, so it is removed (its name is needed again).
    Waiters go_down(bool discard_segment);
    /// While the log is down: drops the records kept for it past segment_size.
    void bound_tail_while_down();
    /// Cuts the zeros preallocated past the records, then closes the file.
    void close_segment();
    /// The open segment's file is now `end` bytes long, if that is longer:
    /// counted in its size and in storage.max_disk.
    void grow_file_to(std::uint64_t end);
    /// Writes zeros ahead of the records once fewer than half of
    /// options_.preallocate are left; they reach the disk with the next sync.
    void extend_preallocation();
    /// fdatasync, timed and counted for the metrics; errno set when false.
    bool sync_file();
    std::uint64_t low_water_mark() const REQUIRES(mutex_);

    const std::filesystem::path dir_;
    const WalOptions options_;
    WalWriter* const writer_;

    mutable Mutex mutex_;
    // Guarded by mutex_.
    std::string tail_ GUARDED_BY(mutex_);  // encoded records not yet handed to the writer
    std::uint64_t tail_first_lsn_ GUARDED_BY(mutex_) = 0;
    std::uint64_t tail_last_lsn_ GUARDED_BY(mutex_) = 0;
    std::uint64_t next_lsn_ GUARDED_BY(mutex_);
    Waiters waiters_ GUARDED_BY(mutex_);
    std::map<std::uint64_t, std::uint64_t> outstanding_
        GUARDED_BY(mutex_);                                // sealed batches: first_lsn -> last_lsn
    std::uint64_t unsealed_first_ GUARDED_BY(mutex_) = 0;  // first data LSN not in a batch; 0: none
    std::atomic<bool> failed_{false};                      // written under mutex_; see failed()
    std::string failure_ GUARDED_BY(mutex_);               // why, for /readyz and /metrics
    std::uint64_t dropped_upto_ GUARDED_BY(mutex_) =
        0;  // records up to here may be missing: never durable

    std::atomic<std::uint64_t> durable_lsn_{0};
    DiskCounter disk_bytes_;

    // The writer thread's own.
    int fd_ = -1;
    std::uint64_t segment_bytes_ = 0;  // records in the open segment
    std::uint64_t allocated_end_ = 0;  // the open segment's file size: records, then zeros
    bool dirty_ = false;
    std::deque<SegmentFile> segments_;  // oldest first; the last one is open while fd_ >= 0
    std::string writing_;
    std::string last_error_;
    // After a failed write or sync: not tried again before retry_at_.
    static constexpr std::chrono::milliseconds kFirstRetryDelay{1000};
    static constexpr std::chrono::milliseconds kMaxRetryDelay{10000};
    bool down_ = false;  // failed_, as this thread knows it without the lock
    std::chrono::milliseconds retry_delay_{0};
    std::chrono::steady_clock::time_point retry_at_;
};

/// The name of the segment starting at `lsn`.
std::string segment_name(std::uint64_t first_lsn);
/// The segments in `dir`, oldest first.
std::vector<SegmentFile> list_segments(const std::filesystem::path& dir);

}  // namespace chgate::store
