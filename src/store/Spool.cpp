#include "store/Spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "store/Files.hpp"
#include "util/Json.hpp"
#include "util/Log.hpp"

namespace chgate::store {

namespace {

// A header field that must be an unsigned integer. nlohmann's get<uint64_t>
// would convert a float (1e21, from a damaged file) with undefined behaviour,
// and a negative number by wrapping it.
std::uint64_t unsigned_field(const nlohmann::json& j, const char* key) {
    const auto& v = j.at(key);
    if (!v.is_number_unsigned()) {
        throw std::runtime_error(std::string(key) + " is not an unsigned integer");
    }
    return v.get<std::uint64_t>();
}

// 0 when the size cannot be read: an error must not count as 2^64 bytes.
std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    return ec ? 0 : static_cast<std::uint64_t>(size);
}

}  // namespace

Spool::Spool(std::filesystem::path dir, std::atomic<std::uint64_t>* disk_total)
    : dir_(std::move(dir)), bytes_(disk_total) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
    // Index what a previous run spooled; unfinished writes (.tmp) are dropped:
    // their batches were still in memory, or in a log, when the run ended.
    std::uint64_t files = 0;
    for (const auto& d : std::filesystem::directory_iterator(dir_, ec)) {
        if (!d.is_directory()) continue;
        const auto target = read_target_meta(d.path());
        if (!target) continue;
        for (const auto& f : std::filesystem::directory_iterator(d.path(), ec)) {
            if (f.path().extension() == ".tmp") {
                std::filesystem::remove(f.path(), ec);
                continue;
            }
            if (f.path().extension() != ".batch") continue;
            std::ifstream in(f.path());
            std::string header;
            if (!std::getline(in, header)) continue;
            try {
                const auto j = nlohmann::json::parse(header);
                SpoolEntry e{f.path(), *target, unsigned_field(j, "batch_id"),
                             unsigned_field(j, "rows"), unsigned_field(j, "bytes")};
                e.file_bytes = file_size_or_zero(f.path());
                bytes_.add(e.file_bytes);
                rows_.fetch_add(e.rows, std::memory_order_relaxed);
                entries_[d.path().filename().string()][f.path().filename().string()] = e;
                ++files;
            } catch (const std::exception& err) {
                LOG_ERROR << "spool file " << f.path().string() << " is unreadable (" << err.what()
                          << "); left in place";
            }
        }
    }
    if (files > 0) {
        LOG_INFO << "spool: " << files << " batches (" << bytes_.load()
                 << " bytes) from an earlier run wait for ClickHouse";
    }
}

bool Spool::put(const LogTarget& target, std::uint64_t batch_id, std::string_view rows,
                std::uint64_t row_count, std::string& error, SpoolEntry& entry) {
    const auto name = target_dir_name(target);
    const auto dir = dir_ / name;
    char file[64];
    {
        LockGuard lock(mutex_);
        // Names sort by spooling time: oldest first on replay, across restarts.
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        std::snprintf(file, sizeof file, "%020lld-%06llu.batch", static_cast<long long>(micros),
                      static_cast<unsigned long long>(++sequence_ % 1000000));
    }
    const auto path = dir / file;
    const nlohmann::json header = {{"batch_id", batch_id},
                                   {"rows", row_count},
                                   {"bytes", rows.size()},
                                   {"table", target.database + "." + target.table}};
    try {
        prepare_target_dir(dir, target);
        write_file_atomically(path, dump_json(header) + "\n" + std::string(rows));
    } catch (const std::exception& e) {
        error = e.what();
        return false;
    }
    entry = {path, target, batch_id, row_count, rows.size(), file_size_or_zero(path)};
    LockGuard lock(mutex_);
    entries_[name][file] = entry;
    rows_.fetch_add(entry.rows, std::memory_order_relaxed);
    // Written by this run and still in memory until the flusher lets it go.
    loaded_.insert(path);
    bytes_.add(entry.file_bytes);
    return true;
}

std::vector<SpoolEntry> Spool::oldest_per_target() {
    LockGuard lock(mutex_);
    std::vector<SpoolEntry> out;
    for (const auto& [dir, files] : entries_) {
        for (const auto& [name, e] : files) {
            if (loaded_.contains(e.path)) continue;
            out.push_back(e);
            break;
        }
    }
    return out;
}

bool Spool::load(const SpoolEntry& entry, std::string& rows, std::string& error, bool& lasting) {
    std::ifstream in(entry.path, std::ios::binary);
    if (!in) {
        const int err = errno;
        lasting = err == ENOENT;
        error = "cannot open " + entry.path.string() + ": " + std::strerror(err);
        return false;
    }
    std::string header;
    if (!std::getline(in, header)) {
        // Spool files are written whole before they are named: this one is damaged.
        lasting = true;
        error = entry.path.string() + " holds no header line";
        return false;
    }
    rows.assign(std::istreambuf_iterator<char>(in), {});
    LockGuard lock(mutex_);
    loaded_.insert(entry.path);
    return true;
}

void Spool::unload(const std::filesystem::path& path) {
    LockGuard lock(mutex_);
    loaded_.erase(path);
}

void Spool::remove(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    LockGuard lock(mutex_);
    loaded_.erase(path);
    // The size counted when the file was indexed: the same number goes back.
    auto it = entries_.find(path.parent_path().filename().string());
    if (it == entries_.end()) return;
    auto entry = it->second.find(path.filename().string());
    if (entry == it->second.end()) return;
    bytes_.sub(entry->second.file_bytes);
    rows_.fetch_sub(entry->second.rows, std::memory_order_relaxed);
    rows_gone_.fetch_add(entry->second.rows, std::memory_order_relaxed);
    it->second.erase(entry);
}

std::optional<std::filesystem::path> Spool::set_aside(const std::filesystem::path& path) {
    auto aside = store::set_aside(path);
    remove(path);  // out of the index; the file is already renamed (or gone)
    set_aside_.fetch_add(1, std::memory_order_relaxed);
    return aside;
}

std::map<std::string, Spool::Count> Spool::counts() const {
    LockGuard lock(mutex_);
    std::map<std::string, Count> out;
    for (const auto& [dir, files] : entries_) {
        for (const auto& [name, e] : files) {
            auto& c = out[e.target.database + "." + e.target.table];
            ++c.batches;
            c.rows += e.rows;
            c.bytes += e.bytes;
        }
    }
    return out;
}

}  // namespace chgate::store
