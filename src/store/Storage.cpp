#include "store/Storage.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "store/DeadLetters.hpp"
#include "store/Files.hpp"
#include "store/SegmentScan.hpp"
#include "store/Spool.hpp"
#include "util/Json.hpp"
#include "util/Log.hpp"

namespace chgate::store {
namespace {

// The range in `ranges` (first -> last) holding `lsn`, or end().
std::map<std::uint64_t, std::uint64_t>::const_iterator find_range(
    const std::map<std::uint64_t, std::uint64_t>& ranges, std::uint64_t lsn) {
    auto it = ranges.upper_bound(lsn);
    if (it == ranges.begin()) return ranges.end();
    --it;
    return lsn <= it->second ? it : ranges.end();
}

std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

}  // namespace

Storage::Storage(StorageOptions options)
    : options_(std::move(options)), writer_(options_.wal.fsync, options_.fsync_interval) {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir / "wal", ec);
    if (ec) {
        throw std::runtime_error("storage.dir: cannot create " + (options_.dir / "wal").string() +
                                 ": " + ec.message());
    }
    const auto lock_path = options_.dir / "LOCK";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) {
        throw std::runtime_error("storage.dir: cannot open " + lock_path.string() + ": " +
                                 std::strerror(errno));
    }
    // Two processes appending to one log would corrupt it.
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = {};
        [[maybe_unused]] auto n = ::pread(lock_fd_, pid, sizeof pid - 1, 0);
        ::close(lock_fd_);
        throw std::runtime_error("storage.dir " + options_.dir.string() +
                                 " is in use by another chgate (pid " + std::string(pid) +
                                 "); give each instance its own directory");
    }
    dead_letters_ = std::make_unique<DeadLetters>(options_.dir / "dead-letter", &disk_total_,
                                                  options_.max_disk);
    spool_ = std::make_unique<Spool>(options_.dir / "spool", &disk_total_);
    const auto pid = std::to_string(::getpid());
    [[maybe_unused]] auto t = ::ftruncate(lock_fd_, 0);
    [[maybe_unused]] auto w = ::pwrite(lock_fd_, pid.data(), pid.size(), 0);
}

Storage::~Storage() {
    writer_.stop();
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::string target_dir_name(const LogTarget& t) {
    std::string name = t.database + "." + t.table;
    if (!t.columns.empty()) {
        std::string joined;
        for (const auto& c : t.columns)
            joined += c + ",";
        char hash[24];
        std::snprintf(hash, sizeof hash, "~%016llx",
                      static_cast<unsigned long long>(fnv1a(joined)));
        name += hash;
    }
    // '@' is in no identifier, so no table's name ends like this.
    if (t.shard != 0) name.append(1, '@').append(std::to_string(t.shard));
    return name;
}

std::filesystem::path Storage::log_dir(const LogTarget& t) const {
    return options_.dir / "wal" / target_dir_name(t);
}

std::vector<LogTarget> Storage::existing_logs() const {
    std::vector<LogTarget> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options_.dir / "wal", ec)) {
        if (!entry.is_directory()) continue;
        auto t = read_target_meta(entry.path());
        if (!t) {
            LOG_ERROR << "write-ahead log " << entry.path().string()
                      << ": no readable meta.json; its records are not replayed";
            continue;
        }
        if (log_dir(*t) != entry.path()) {
            LOG_WARN << "write-ahead log " << entry.path().string()
                     << ": meta.json names another table; skipped";
            continue;
        }
        out.push_back(std::move(*t));
    }
    return out;
}

void prepare_target_dir(const std::filesystem::path& dir, const LogTarget& target) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
    if (!std::filesystem::exists(dir / "meta.json")) {
        nlohmann::json meta = {{"database", target.database},
                               {"table", target.table},
                               {"columns", target.columns},
                               {"format", 1}};
        if (target.shard != 0) meta["shard"] = target.shard;
        write_file_atomically(dir / "meta.json", dump_json(meta) + "\n");
    }
}

std::optional<LogTarget> read_target_meta(const std::filesystem::path& dir) {
    std::ifstream in(dir / "meta.json");
    if (!in) return std::nullopt;
    try {
        const auto j = nlohmann::json::parse(in);
        std::uint32_t shard = 0;
        if (const auto it = j.find("shard"); it != j.end()) {
            // Not a cast: a -1 or 2^40 written by hand names no shard.
            if (!it->is_number_unsigned() || it->get<std::uint64_t>() > UINT32_MAX)
                return std::nullopt;
            shard = static_cast<std::uint32_t>(it->get<std::uint64_t>());
        }
        return LogTarget{j.at("database").get<std::string>(), j.at("table").get<std::string>(),
                         j.at("columns").get<std::vector<std::string>>(), shard};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool PendingReplay::index_segment(SegmentFile& seg, std::uint64_t& max_lsn) {
    const auto scan = scan_segment(seg.path, [&](const Record& r) {
        max_lsn = std::max(max_lsn, r.lsn);
        ++stats_.records;
        BatchRange range;
        if (r.type == RecordType::seal && decode_range(r.payload, r.type, range)) {
            sealed_[range.first_lsn] = range.last_lsn;
            seal_ids_[range.first_lsn] = range.batch_id;
        } else if (r.type == RecordType::done && decode_range(r.payload, r.type, range)) {
            done_[range.first_lsn] = range.last_lsn;
        }
    });
    if (!scan.opened) {
        // Unreadable (an I/O error, or not a file at all): set aside, never
        // deleted, and the start goes on without it.
        ++stats_.unreadable_segments;
        max_lsn = std::max(max_lsn, seg.first_lsn);
        const auto aside = set_aside(seg.path);
        LOG_ERROR << "write-ahead log " << seg.path.string() << ": " << scan.error
                  << "; its records are not replayed (the file is "
                  << (aside ? "now " + aside->string() : "left where it is") << ", for inspection)";
        return false;
    }
    stats_.damaged += scan.damaged;
    stats_.damaged_bytes += scan.damaged_bytes;
    if (scan.damaged > 0) {
        LOG_ERROR << "write-ahead log " << seg.path.string() << ": skipped " << scan.damaged
                  << " damaged record(s), " << scan.damaged_bytes
                  << " bytes; the rows in them are lost";
    }
    if (scan.torn_tail) {
        // A write cut short by a crash: keep what is whole.
        stats_.torn_bytes += scan.torn_bytes();
        LOG_WARN << "write-ahead log " << seg.path.string() << ": cut a torn tail of "
                 << scan.torn_bytes() << " bytes at offset " << scan.good_end;
    }
    if (scan.torn_tail || scan.zero_tail > 0) {
        // Also the zeros preallocated past the records of a log left open.
        std::error_code ec;
        std::filesystem::resize_file(seg.path, scan.good_end, ec);
        seg.bytes = scan.good_end;
    }
    return true;
}

std::unique_ptr<PendingReplay> PendingReplay::index(std::vector<SegmentFile>& segments,
                                                    std::uint64_t& max_lsn) {
    auto replay = std::unique_ptr<PendingReplay>(new PendingReplay);
    // A segment that could not be read was set aside; one left with no records
    // (created just before a crash) goes: the log's next segment may take its
    // name.
    std::vector<SegmentFile> kept;
    for (auto& seg : segments) {
        if (!replay->index_segment(seg, max_lsn)) continue;
        if (seg.bytes == 0) {
            std::error_code ec;
            std::filesystem::remove(seg.path, ec);
            continue;
        }
        kept.push_back(std::move(seg));
    }
    segments = std::move(kept);
    for (const auto& [first, last] : replay->done_) {
        replay->sealed_.erase(first);
        replay->seal_ids_.erase(first);
    }
    replay->segments_ = segments;
    return replay;
}

Storage::Opened Storage::open(const LogTarget& target) {
    const auto dir = log_dir(target);
    prepare_target_dir(dir, target);
    Opened opened;
    auto segments = list_segments(dir);
    std::uint64_t max_lsn = 0;
    // Pass 1: which batches were sealed, which finished, and where the log ends.
    if (!segments.empty()) opened.replay = PendingReplay::index(segments, max_lsn);
    opened.wal = std::make_shared<Wal>(dir, options_.wal, max_lsn + 1, std::move(segments),
                                       &writer_, &disk_total_);
    writer_.add(opened.wal);
    return opened;
}

bool Storage::disk_has_room(std::uint64_t more) const {
    if (options_.max_disk == 0) return true;
    return disk_bytes() + more <= options_.max_disk;
}

std::uint64_t PendingReplay::bytes() const {
    std::uint64_t total = 0;
    for (const auto& seg : segments_)
        total += seg.bytes;
    return total;
}

ReplayStats PendingReplay::run(const std::function<void(ReplayedBatch&&)>& sink,
                               std::uint64_t max_batch_bytes,
                               const std::function<void(std::uint64_t)>& on_read) {
    std::optional<ReplayedBatch> building;
    // Bytes of the log read: whole segments, and records of the current one.
    std::uint64_t read = 0, in_segment = 0, segment_bytes = 0;
    auto emit = [&] {
        if (!building) return;
        if (building->row_count > 0) {
            ++stats_.batches;
            stats_.rows += building->row_count;
            if (on_read) on_read(read + std::min(in_segment, segment_bytes));
            sink(std::move(*building));
        }
        building.reset();
    };
    // Pass 2: rows not yet committed, rebuilt into their original batches
    // where a seal says how; runs of unsealed records become new batches.
    std::uint64_t seen = 0;
    for (const auto& seg : segments_) {
        in_segment = 0;
        segment_bytes = seg.bytes;
        const auto scan = scan_segment(seg.path, [&](const Record& r) {
            in_segment += kHeaderSize + r.payload.size();
            // Records of a write whose sync failed are written again in the
            // next segment: the second copy is a repeat.
            if (r.lsn <= seen) return;
            seen = r.lsn;
            if (r.type != RecordType::data) return;
            if (find_range(done_, r.lsn) != done_.end()) {
                ++stats_.skipped_done;
                return;
            }
            const auto rows_in =
                static_cast<std::uint64_t>(std::count(r.payload.begin(), r.payload.end(), '\n'));
            const auto sealed = find_range(sealed_, r.lsn);
            if (sealed != sealed_.end()) {
                if (building && (building->new_id || building->first_lsn != sealed->first)) emit();
                if (!building) {
                    building.emplace();
                    building->id = seal_ids_[sealed->first];
                    building->first_lsn = sealed->first;
                    building->last_lsn = sealed->second;
                }
                building->rows.append(r.payload);
                building->row_count += rows_in;
                if (r.lsn == sealed->second) emit();
                return;
            }
            if (building && !building->new_id) emit();  // its last records were damaged
            if (!building) {
                building.emplace();
                building->new_id = true;
                building->first_lsn = r.lsn;
            }
            building->rows.append(r.payload);
            building->row_count += rows_in;
            building->last_lsn = r.lsn;
            if (building->rows.size() >= max_batch_bytes) emit();
        });
        if (!scan.opened) LOG_ERROR << "replay: " << scan.error;
        read += seg.bytes;
        in_segment = 0;  // counted whole in `read` now
        if (on_read) on_read(read);
    }
    emit();
    return stats_;
}

}  // namespace chgate::store
