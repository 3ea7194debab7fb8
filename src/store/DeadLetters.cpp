#include "store/DeadLetters.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "store/Files.hpp"
#include "util/Json.hpp"
#include "util/Log.hpp"
#include "util/TimeFormat.hpp"

namespace chgate::store {
namespace {

constexpr std::string_view kRowField = ",\"row\":";
constexpr std::string_view kTakenPrefix = ".taken-";

std::string json_string(std::string_view s) {
    return dump_json(nlohmann::json(std::string(s)));
}

std::vector<std::filesystem::path> ndjson_files(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".ndjson") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

DeadLetters::DeadLetters(std::filesystem::path dir, std::atomic<std::uint64_t>* disk_total,
                         std::uint64_t max_disk)
    : dir_(std::move(dir)), bytes_(disk_total), max_disk_(max_disk) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
    }
    recover_taken();
    recount();
}

// A replay cut short by a crash left its files aside: put them back.
void DeadLetters::recover_taken() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
        const auto name = e.path().filename().string();
        if (!name.starts_with(kTakenPrefix)) continue;
        const auto meta = read_target_meta(e.path());
        if (!meta) continue;
        const auto home = dir_ / target_dir_name(*meta);
        std::filesystem::create_directories(home, ec);
        if (!std::filesystem::exists(home / "meta.json")) {
            std::filesystem::copy_file(e.path() / "meta.json", home / "meta.json", ec);
        }
        int n = 0;
        for (const auto& f : ndjson_files(e.path())) {
            std::filesystem::rename(
                f, home / (f.stem().string() + ".recovered-" + std::to_string(n++) + ".ndjson"),
                ec);
        }
        std::filesystem::remove_all(e.path(), ec);
        LOG_WARN << "dead letters of " << meta->database << "." << meta->table
                 << ": a replay was interrupted; its rows are back in " << home.string();
    }
}

DeadLetters::Count DeadLetters::count_dir(const std::filesystem::path& dir) const {
    Count c;
    std::error_code ec;
    for (const auto& f : ndjson_files(dir)) {
        const auto size = std::filesystem::file_size(f, ec);
        if (!ec) c.bytes += size;
        std::ifstream in(f);
        for (std::string line; std::getline(in, line);)
            ++c.rows;
    }
    return c;
}

void DeadLetters::recount() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
        if (!e.is_directory()) continue;
        const auto name = e.path().filename().string();
        if (name.starts_with(".")) continue;
        const auto meta = read_target_meta(e.path());
        if (!meta) continue;
        const auto c = count_dir(e.path());
        LockGuard lock(mutex_);  // at start, before anyone else can look
        counts_[name] = c;
        targets_[name] = *meta;
        bytes_.add(c.bytes);
    }
}

namespace {

// One line per row: when, where, why, and the row itself.
std::string encode_dead_rows(const LogTarget& target, std::uint64_t batch_id,
                             std::span<const DeadRow> rows, std::string_view stamp) {
    std::string text;
    const auto table = json_string(target.database + "." + target.table);
    for (const auto& r : rows) {
        text.append("{\"time\":\"").append(stamp).append("\",\"table\":").append(table);
        text.append(",\"batch_id\":").append(std::to_string(batch_id));
        text.append(",\"code\":").append(std::to_string(r.code));
        text.append(",\"error\":").append(json_string(r.message));
        text.append(kRowField).append(r.row).append("}\n");
    }
    return text;
}

// Appends `text` to `file` and syncs it. `written`: the bytes the file grew
// by, whether the append succeeded or not.
bool append_synced(const std::filesystem::path& file, std::string_view text, std::uint64_t& written,
                   std::string& error) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = "cannot open " + file.string() + ": " + std::strerror(errno);
        return false;
    }
    struct stat before {};
    const auto start = ::fstat(fd, &before) == 0 ? static_cast<std::uint64_t>(before.st_size) : 0;
    bool ok = write_all(fd, text, error);
    if (ok && ::fdatasync(fd) != 0) {
        ok = false;
        error = std::string("fdatasync failed: ") + std::strerror(errno);
    }
    struct stat after {};
    if (::fstat(fd, &after) == 0 && static_cast<std::uint64_t>(after.st_size) > start) {
        written = static_cast<std::uint64_t>(after.st_size) - start;
    }
    ::close(fd);
    if (!ok) error = file.string() + ": " + error;
    return ok;
}

}  // namespace

bool DeadLetters::append(const LogTarget& target, std::uint64_t batch_id,
                         std::span<const DeadRow> rows, std::string& error) {
    if (rows.empty()) return true;
    const auto name = target_dir_name(target);
    const auto dir = dir_ / name;
    const auto stamp = format_utc_seconds(std::chrono::system_clock::now());
    const auto text = encode_dead_rows(target, batch_id, rows, stamp);
    // The room is taken before writing, so that concurrent appends (and logs)
    // cannot together pass storage.max_disk; then corrected to what was
    // written, whether the append succeeded or not.
    if (!bytes_.try_add(text.size(), max_disk_)) {
        error = "storage.max_disk is in use (write-ahead logs, spool and dead letters)";
        return false;
    }
    std::uint64_t written = 0;
    const auto settle = [&] {
        if (written < text.size()) bytes_.sub(text.size() - written);
        if (written > text.size()) bytes_.add(written - text.size());
    };
    LockGuard lock(mutex_);
    try {
        prepare_target_dir(dir, target);
    } catch (const std::exception& e) {
        settle();
        error = e.what();
        return false;
    }
    const bool ok = append_synced(dir / (stamp.substr(0, 10) + ".ndjson"), text, written, error);
    settle();
    if (!ok) return false;
    sync_dir(dir);
    auto& c = counts_[name];
    c.rows += rows.size();
    c.bytes += text.size();
    targets_[name] = target;
    return true;
}

std::map<std::string, DeadLetters::Count> DeadLetters::counts() const {
    LockGuard lock(mutex_);
    std::map<std::string, Count> out;
    for (const auto& [name, c] : counts_) {
        const auto& t = targets_.at(name);
        auto& sum = out[t.database + "." + t.table];
        sum.rows += c.rows;
        sum.bytes += c.bytes;
    }
    return out;
}

std::vector<DeadLetters::Taken> DeadLetters::take(const std::string& database,
                                                  const std::string& table) {
    LockGuard lock(mutex_);
    std::vector<Taken> out;
    for (auto it = targets_.begin(); it != targets_.end();) {
        const auto& [name, target] = *it;
        if (target.database != database || target.table != table) {
            ++it;
            continue;
        }
        const auto aside = dir_ / (std::string(kTakenPrefix) + name + "-" +
                                   std::to_string(::getpid()) + "-" + std::to_string(++taken_));
        std::error_code ec;
        std::filesystem::rename(dir_ / name, aside, ec);
        if (!ec) {
            sync_dir(dir_);
            const auto it_count = counts_.find(name);
            out.push_back({target, aside, ndjson_files(aside),
                           it_count == counts_.end() ? 0 : it_count->second.bytes});
        }
        counts_.erase(name);
        it = targets_.erase(it);
    }
    return out;
}

void DeadLetters::give_back(const Taken& taken) {
    LockGuard lock(mutex_);
    const auto name = target_dir_name(taken.target);
    const auto home = dir_ / name;
    std::error_code ec;
    std::filesystem::create_directories(home, ec);
    if (!std::filesystem::exists(home / "meta.json")) {
        std::filesystem::copy_file(taken.dir / "meta.json", home / "meta.json", ec);
    }
    for (const auto& f : ndjson_files(taken.dir)) {
        std::filesystem::rename(
            f, home / (f.stem().string() + ".back-" + std::to_string(++taken_) + ".ndjson"), ec);
    }
    std::filesystem::remove_all(taken.dir, ec);
    sync_dir(home);
    sync_dir(dir_);
    targets_[name] = taken.target;
    counts_[name] = count_dir(home);
}

void DeadLetters::release(const Taken& taken) {
    std::error_code ec;
    std::filesystem::remove_all(taken.dir, ec);
    bytes_.sub(std::min(taken.bytes, bytes_.load()));
}

std::uint64_t DeadLetters::expire(std::chrono::system_clock::time_point now,
                                  std::chrono::milliseconds retention) {
    if (retention.count() <= 0) return 0;
    // Files are named by the UTC day their rows were written: YYYY-MM-DD….ndjson.
    const auto cutoff = format_utc_seconds(now - retention - std::chrono::hours(24)).substr(0, 10);
    std::uint64_t rows = 0;
    LockGuard lock(mutex_);
    for (auto& [name, count] : counts_) {
        const auto dir = dir_ / name;
        bool removed = false;
        for (const auto& f : ndjson_files(dir)) {
            const auto day = f.filename().string().substr(0, 10);
            if (day.size() != 10 || day >= cutoff) continue;
            std::error_code ec;
            std::filesystem::remove(f, ec);
            removed = removed || !ec;
        }
        if (!removed) continue;
        const auto left = count_dir(dir);
        rows += count.rows - std::min(count.rows, left.rows);
        bytes_.sub(count.bytes - std::min(count.bytes, left.bytes));
        count = left;
        LOG_INFO << "dead letters of " << targets_[name].database << "." << targets_[name].table
                 << ": removed files older than storage.dead_letter_retention";
    }
    return rows;
}

std::uint64_t DeadLetters::read_rows(const std::filesystem::path& file,
                                     const std::function<void(std::string_view)>& sink) {
    return read_entries(file, [&](std::string_view, std::string_view row) { sink(row); });
}

std::uint64_t DeadLetters::read_entries(
    const std::filesystem::path& file,
    const std::function<void(std::string_view record, std::string_view row)>& sink) {
    std::ifstream in(file);
    std::uint64_t n = 0;
    std::string record;
    for (std::string line; std::getline(in, line);) {
        // The event is the last field, after every escaped string: the first
        // ,"row": is the field itself, and the line ends with its closing brace.
        const auto at = line.find(kRowField);
        if (at == std::string::npos || line.empty() || line.back() != '}') continue;
        const auto begin = at + kRowField.size();
        record.assign(line, 0, at).push_back('}');
        sink(record, std::string_view(line).substr(begin, line.size() - 1 - begin));
        ++n;
    }
    return n;
}

}  // namespace chgate::store
