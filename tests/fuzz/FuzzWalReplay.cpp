// The write-ahead log on disk is arbitrary bytes: a segment scanned and
// replayed never crashes the start, and what replay hands back are whole rows.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "store/SegmentScan.hpp"
#include "store/Storage.hpp"
#include "store/Wal.hpp"

namespace {
const std::filesystem::path& workdir() {
    static const auto dir = [] {
        auto d = std::filesystem::temp_directory_path() /
                 ("chgate-fuzz-wal-" + std::to_string(::getpid()));
        std::filesystem::remove_all(d);
        return d;
    }();
    return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    chgate::store::scan_bytes(bytes, [](const chgate::store::Record&) {});

    // The same bytes as a log's only segment, opened and replayed as at start.
    const auto& dir = workdir();
    std::filesystem::remove_all(dir);
    const chgate::store::LogTarget target{"default", "t", {}};
    const auto logdir = dir / "wal" / chgate::store::target_dir_name(target);
    chgate::store::prepare_target_dir(logdir, target);
    {
        std::ofstream out(logdir / chgate::store::segment_name(1), std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    chgate::store::StorageOptions options;
    options.dir = dir;
    options.wal.preallocate = 0;
    options.wal.fsync = chgate::store::FsyncMode::never;
    chgate::store::Storage storage(options);
    auto opened = storage.open(target);
    if (opened.replay) {
        opened.replay->run(
            [](chgate::store::ReplayedBatch&& b) {
                if (!b.rows.empty() && b.rows.back() != '\n') std::abort();
            },
            1 << 20);
    }
    return 0;
}
