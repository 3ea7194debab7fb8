// Spool and dead-letter files on disk are arbitrary bytes: indexing and
// reading them never crashes, and a dead letter's row is a slice of its line.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "store/DeadLetters.hpp"
#include "store/Spool.hpp"
#include "store/Storage.hpp"

namespace {
const std::filesystem::path& workdir() {
    static const auto dir = [] {
        auto d = std::filesystem::temp_directory_path() /
                 ("chgate-fuzz-files-" + std::to_string(::getpid()));
        std::filesystem::remove_all(d);
        return d;
    }();
    return dir;
}

void write(const std::filesystem::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto& dir = workdir();
    std::filesystem::remove_all(dir);
    const chgate::store::LogTarget target{"default", "t", {"a"}};
    const auto name = chgate::store::target_dir_name(target);

    // A spool file: indexed at start, then loaded.
    chgate::store::prepare_target_dir(dir / "spool" / name, target);
    write(dir / "spool" / name / "00000000000000000001-000001.batch", bytes);
    chgate::store::Spool spool(dir / "spool");
    for (const auto& entry : spool.oldest_per_target()) {
        std::string rows, error;
        bool lasting = false;
        spool.load(entry, rows, error, lasting);
    }

    // A dead-letter file: counted at start, then read row by row.
    chgate::store::prepare_target_dir(dir / "dead-letter" / name, target);
    write(dir / "dead-letter" / name / "2026-01-01.ndjson", bytes);
    chgate::store::DeadLetters dead(dir / "dead-letter");
    dead.counts();
    chgate::store::DeadLetters::read_rows(dir / "dead-letter" / name / "2026-01-01.ndjson",
                                          [&](std::string_view row) {
                                              if (row.size() > bytes.size()) std::abort();
                                          });
    // And as a log's meta.json, which names the table of a directory.
    write(dir / "spool" / name / "meta.json", bytes);
    chgate::store::read_target_meta(dir / "spool" / name);
    return 0;
}
