#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/Wal.hpp"
#include "store/WalWriter.hpp"

namespace chgate::store {
class DeadLetters;
class Spool;
}  // namespace chgate::store

namespace chgate::store {

/// Which buffer a log belongs to; stored as meta.json beside its segments.
struct LogTarget {
    std::string database;
    std::string table;
    std::vector<std::string> columns;
    /// The cluster's shard (from 1) the rows go to, for a table with
    /// shard_by; 0: the table itself.
    std::uint32_t shard = 0;
};

/// The directory name for a target's files: "db.table", or "db.table~hash"
/// with a column list, then "@shard" for a shard.
std::string target_dir_name(const LogTarget& target);

/// Creates `dir` for `target`, with its meta.json; throws std::runtime_error.
void prepare_target_dir(const std::filesystem::path& dir, const LogTarget& target);
/// Reads the target back from dir/meta.json.
std::optional<LogTarget> read_target_meta(const std::filesystem::path& dir);

struct StorageOptions {
    std::filesystem::path dir;
    WalOptions wal;
    std::chrono::milliseconds fsync_interval{1000};
    std::uint64_t max_disk = 0;  ///< 0: no bound
};

/// What replay found in one log.
struct ReplayStats {
    std::uint64_t records = 0;
    std::uint64_t damaged = 0;  ///< damaged stretches skipped
    std::uint64_t damaged_bytes = 0;
    std::uint64_t torn_bytes = 0;  ///< cut from the end of a segment
    std::uint64_t batches = 0;     ///< batches rebuilt
    std::uint64_t rows = 0;
    std::uint64_t skipped_done = 0;         ///< data records already committed
    std::uint64_t unreadable_segments = 0;  ///< set aside as NAME.wal.unreadable
};

/// A batch rebuilt from the log, to be sent again.
struct ReplayedBatch {
    std::uint64_t id = 0;
    bool new_id = false;  ///< true: its rows were never sealed before the stop
    std::uint64_t first_lsn = 0;
    std::uint64_t last_lsn = 0;
    std::string rows;
    std::uint64_t row_count = 0;
};

/// A log opened at start that still holds records to send.
class PendingReplay {
  public:
    /// Streams the batches to `sink`, one at a time, in log order. Memory holds
    /// one batch at most; `sink` may block until it can take the next.
    /// `on_read`, if set, is told the bytes of the log read so far after
    /// each segment.
    ReplayStats run(const std::function<void(ReplayedBatch&&)>& sink, std::uint64_t max_batch_bytes,
                    const std::function<void(std::uint64_t)>& on_read = {});
    /// The bytes of the segments run() reads.
    std::uint64_t bytes() const;

  private:
    friend class Storage;
    PendingReplay() = default;
    /// Pass 1 over a log's segments: which batches were sealed, which
    /// finished, and (in `max_lsn`) where the log ends. Unreadable segments
    /// are set aside and empty ones removed, both dropped from `segments`.
    static std::unique_ptr<PendingReplay> index(std::vector<SegmentFile>& segments,
                                                std::uint64_t& max_lsn);
    /// Pass 1 over one segment; cuts a torn tail and preallocated zeros.
    /// False: it could not be read, and is set aside.
    bool index_segment(SegmentFile& seg, std::uint64_t& max_lsn);

    std::vector<SegmentFile> segments_;
    std::map<std::uint64_t, std::uint64_t> done_;      // first -> last
    std::map<std::uint64_t, std::uint64_t> sealed_;    // first -> last, not done
    std::map<std::uint64_t, std::uint64_t> seal_ids_;  // first -> batch id
    ReplayStats stats_;
};

/// Owns storage.dir: one write-ahead log per buffer under wal/, written by one
/// WalWriter. A lock file keeps a second chgate from using the same directory.
class Storage {
  public:
    /// Creates the directories and takes the lock; throws std::runtime_error.
    explicit Storage(StorageOptions options);
    ~Storage();

    struct Opened {
        std::shared_ptr<Wal> wal;
        std::unique_ptr<PendingReplay> replay;  ///< set when the log held records
    };
    /// Opens (or creates) the log for `target`. An existing log is scanned:
    /// a torn tail is cut, damage is counted, and what needs sending again is
    /// returned as a PendingReplay.
    Opened open(const LogTarget& target);

    /// The targets of every log on disk, for replay at start.
    std::vector<LogTarget> existing_logs() const;

    WalWriter& writer() { return writer_; }
    DeadLetters& dead_letters() { return *dead_letters_; }
    Spool& spool() { return *spool_; }
    const Spool& spool() const { return *spool_; }
    /// Whether `more` bytes fit under storage.max_disk (logs and spool).
    bool disk_has_room(std::uint64_t more) const;
    std::uint64_t max_disk() const { return options_.max_disk; }
    const DeadLetters& dead_letters() const { return *dead_letters_; }
    std::uint64_t syncs() const { return writer_.syncs(); }
    std::chrono::nanoseconds sync_time() const { return writer_.sync_time(); }
    /// Bytes of every log and the spool: one atomic load.
    std::uint64_t disk_bytes() const { return disk_total_.load(std::memory_order_relaxed); }
    const std::filesystem::path& dir() const { return options_.dir; }

  private:
    std::filesystem::path log_dir(const LogTarget& target) const;

    const StorageOptions options_;
    // Declared first: the logs and the spool add to it. Only the writer thread
    // and flushers change it, and both stop before Storage goes.
    std::atomic<std::uint64_t> disk_total_{0};
    int lock_fd_ = -1;
    WalWriter writer_;
    std::unique_ptr<DeadLetters> dead_letters_;
    std::unique_ptr<Spool> spool_;
};

}  // namespace chgate::store
