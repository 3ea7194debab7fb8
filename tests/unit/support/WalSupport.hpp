#pragma once

// Helpers shared by the write-ahead log's tests (WalSegmentTest,
// WalFailureTest, StorageTest).

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "store/Storage.hpp"
#include "store/Wal.hpp"
#include "support/TempDir.hpp"

namespace chgate::test::wal {

struct TempDir : test::TempDir {
    TempDir() : test::TempDir("chgate-wal") {}
};

inline store::StorageOptions options(const std::filesystem::path& dir,
                                     std::uint64_t preallocate = 1 << 20) {
    store::StorageOptions o;
    o.dir = dir;
    o.wal.segment_size = 1 << 20;
    o.wal.preallocate = preallocate;
    return o;
}

/// Opens `target` and runs its replay, if it has one: the batches it sends.
inline std::vector<store::ReplayedBatch> replay(store::Storage& storage,
                                                const store::LogTarget& target,
                                                store::ReplayStats* stats = nullptr) {
    auto opened = storage.open(target);
    std::vector<store::ReplayedBatch> out;
    if (!opened.replay) return out;
    const auto s =
        opened.replay->run([&](store::ReplayedBatch&& b) { out.push_back(std::move(b)); }, 1 << 20);
    if (stats) *stats = s;
    return out;
}

inline const store::LogTarget kTarget{"default", "events", {}};

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

/// Whether `lsn` is durable: nullopt while it waits.
inline std::optional<bool> durable(store::Wal& wal, std::uint64_t lsn) {
    std::optional<bool> result;
    wal.when_durable(lsn, [&](bool ok) { result = ok; });
    return result;
}

inline std::string all_rows(const std::vector<store::ReplayedBatch>& batches) {
    std::string rows;
    for (const auto& b : batches)
        rows += b.rows;
    return rows;
}

/// Makes writes past `bytes` fail with EFBIG, as a full disk would, until destroyed.
struct FileSizeLimit {
    explicit FileSizeLimit(rlim_t bytes) {
        old_handler = std::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &old);
        rlimit now = old;
        now.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &now);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, old_handler);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;
    rlimit old{};
    void (*old_handler)(int) = nullptr;
};

}  // namespace chgate::test::wal
