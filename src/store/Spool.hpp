#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/DiskCounter.hpp"
#include "store/Storage.hpp"
#include "util/Mutex.hpp"

namespace chgate::store {

/// A batch on disk, waiting for ClickHouse.
struct SpoolEntry {
    std::filesystem::path path;
    LogTarget target;
    std::uint64_t batch_id = 0;
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;       ///< of rows, as held in memory once loaded
    std::uint64_t file_bytes = 0;  ///< on disk, counted against storage.max_disk
};

/// Sealed batches that ClickHouse did not take in time, one file each under
/// storage.dir/spool/<db.table>/: a JSON header line, then the rows. Files are
/// written whole and synced before they count; they leave once their batch is
/// inserted (or dead-lettered). Oldest first, per target directory.
class Spool {
  public:
    /// Creates the directory and indexes what a previous run left;
    /// `disk_total` (may be null) sums the bytes of every log and the spool.
    explicit Spool(std::filesystem::path dir, std::atomic<std::uint64_t>* disk_total = nullptr);

    /// Writes a batch; false (with `error`) if the disk refused.
    bool put(const LogTarget& target, std::uint64_t batch_id, std::string_view rows,
             std::uint64_t row_count, std::string& error, SpoolEntry& entry);

    /// The oldest entry of each target that is not loaded, for a round of replay.
    std::vector<SpoolEntry> oldest_per_target();

    /// Reads an entry's rows; marks it loaded so it is not handed out twice.
    /// On failure, `error` says why, and `lasting` whether it will never load
    /// (the file is gone, or holds no header line); an error that may pass
    /// (too many open files, say) leaves `lasting` false.
    bool load(const SpoolEntry& entry, std::string& rows, std::string& error, bool& lasting);
    /// The batch left memory again without finishing (ClickHouse failed again):
    /// its file stays and comes up in a later round.
    void unload(const std::filesystem::path& path);
    /// The batch is finished: the file goes.
    void remove(const std::filesystem::path& path);
    /// A file that will never load: renamed NAME.unreadable (if it is still
    /// there; see store::set_aside), out of the way of the batches behind it,
    /// and no longer counted. Returns the new name, if there was a file.
    std::optional<std::filesystem::path> set_aside(const std::filesystem::path& path);

    std::uint64_t bytes() const { return bytes_.load(); }
    /// Rows in the spool now, and rows that have left it (inserted,
    /// dead-lettered or set aside) since it was opened.
    std::uint64_t rows() const { return rows_.load(std::memory_order_relaxed); }
    std::uint64_t rows_gone() const { return rows_gone_.load(std::memory_order_relaxed); }
    /// Files set aside by this run.
    std::uint64_t set_aside_files() const { return set_aside_.load(std::memory_order_relaxed); }
    struct Count {
        std::uint64_t batches = 0, rows = 0, bytes = 0;
    };
    /// Per table, "db.table".
    std::map<std::string, Count> counts() const;

  private:
    const std::filesystem::path dir_;
    mutable Mutex mutex_;
    // Guarded by mutex_: every entry on disk by target directory, oldest first
    // (file names sort by time), and which are loaded.
    std::map<std::string, std::map<std::string, SpoolEntry>> entries_ GUARDED_BY(mutex_);
    std::set<std::filesystem::path> loaded_ GUARDED_BY(mutex_);
    std::uint64_t sequence_ GUARDED_BY(mutex_) = 0;
    DiskCounter bytes_;
    std::atomic<std::uint64_t> set_aside_{0};
    std::atomic<std::uint64_t> rows_{0};
    std::atomic<std::uint64_t> rows_gone_{0};
};

}  // namespace chgate::store
