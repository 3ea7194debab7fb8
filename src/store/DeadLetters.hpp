#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/DiskCounter.hpp"
#include "store/Storage.hpp"
#include "util/Mutex.hpp"

namespace chgate::store {

/// A row ClickHouse refused, on its way to the dead letters.
struct DeadRow {
    std::string_view row;  ///< the event as it was sent, without its newline
    int code = 0;
    std::string message;
};

/// Rows ClickHouse refused, kept under storage.dir/dead-letter/<db.table>/ as
/// one NDJSON file per day. Each line is
///   {"time":…,"table":…,"batch_id":…,"code":…,"error":…,"row":<the event>}
/// with the event last and byte for byte as it was sent. Appends are synced
/// before the batch is marked finished in its write-ahead log.
class DeadLetters {
  public:
    /// Creates the directory; counts what is already there. `disk_total` (may
    /// be null) sums the bytes of every log, the spool and the dead letters;
    /// an append that would take it past `max_disk` (0: no bound) is refused.
    explicit DeadLetters(std::filesystem::path dir,
                         std::atomic<std::uint64_t>* disk_total = nullptr,
                         std::uint64_t max_disk = 0);

    /// Appends and syncs. False (with `error`) if the disk refused, or if
    /// storage.max_disk has no room for them.
    bool append(const LogTarget& target, std::uint64_t batch_id, std::span<const DeadRow> rows,
                std::string& error);

    struct Count {
        std::uint64_t rows = 0;
        std::uint64_t bytes = 0;
    };
    /// Per table, "db.table", summed over column lists.
    std::map<std::string, Count> counts() const;

    /// A table's dead letters, moved aside for replay: append() starts new files.
    struct Taken {
        LogTarget target;
        std::filesystem::path dir;  ///< release() it once the rows are safely elsewhere
        std::vector<std::filesystem::path> files;
        std::uint64_t bytes = 0;
    };
    std::vector<Taken> take(const std::string& database, const std::string& table);
    /// Deletes what take() moved aside (its rows are committed or dead letters again).
    void release(const Taken& taken);
    /// Puts what take() moved aside back among the table's dead letters (its
    /// rows could not go elsewhere now).
    void give_back(const Taken& taken);

    /// Deletes the files whose rows are all older than `retention`
    /// (storage.dead_letter_retention), by the UTC day in their names.
    /// Returns how many rows went.
    std::uint64_t expire(std::chrono::system_clock::time_point now,
                         std::chrono::milliseconds retention);
    /// Bytes on disk, taken ones included.
    std::uint64_t bytes() const { return bytes_.load(); }

    /// The events in a dead-letter file, in order. Returns how many.
    static std::uint64_t read_rows(const std::filesystem::path& file,
                                   const std::function<void(std::string_view row)>& sink);
    /// Each line of a dead-letter file: what was recorded with the event as
    /// a JSON object ({"time", "table", "batch_id", "code", "error"}), and the
    /// event as sent. Returns how many.
    static std::uint64_t read_entries(
        const std::filesystem::path& file,
        const std::function<void(std::string_view record, std::string_view row)>& sink);

    const std::filesystem::path& dir() const { return dir_; }

  private:
    void recount();
    Count count_dir(const std::filesystem::path& dir) const;
    void recover_taken();

    const std::filesystem::path dir_;
    DiskCounter bytes_;
    const std::uint64_t max_disk_;
    mutable Mutex mutex_;
    // Guarded by mutex_: per target directory name.
    std::map<std::string, Count> counts_ GUARDED_BY(mutex_);
    std::map<std::string, LogTarget> targets_ GUARDED_BY(mutex_);
    std::uint64_t taken_ GUARDED_BY(mutex_) = 0;
};

}  // namespace chgate::store
