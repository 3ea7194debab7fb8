#include <catch2/catch.hpp>

#include "store/SegmentScan.hpp"
#include "store/WalFormat.hpp"
#include "support/WalSupport.hpp"

using namespace chgate;
using namespace chgate::store;
using namespace chgate::test::wal;

TEST_CASE("the open segment has zeros preallocated ahead of its records") {
    TempDir dir;
    const auto logdir = dir.path / "wal" / "default.events";
    std::string left_open;
    std::uint64_t records_end = 0;
    {
        Storage storage(options(dir.path));
        auto wal = storage.open(kTarget).wal;
        for (int i = 0; i < 10; ++i) {
            const auto row = "{\"n\":" + std::to_string(i) + "}\n";
            wal->append_data(row);
            records_end += row.size() + kHeaderSize;
        }
        wal->flush(true);
        const auto seg = list_segments(logdir).at(0).path;
        // What a crash would leave: the records, then zeros up to the preallocation.
        left_open = read_file(seg);
        // The zeros count in storage.max_disk: the disk holds them.
        CHECK(wal->disk_bytes() == left_open.size());
        CHECK(left_open.size() >= std::min<std::uint64_t>(WalOptions{}.preallocate, 1 << 20));
        CHECK(left_open.size() % 4096 == 0);
        CHECK(left_open.find_first_not_of('\0', records_end) == std::string::npos);
    }
    const auto seg = list_segments(logdir).at(0).path;
    // A clean close gives the zeros back.
    CHECK(std::filesystem::file_size(seg) == records_end);
    {
        std::ofstream out(seg, std::ios::binary | std::ios::trunc);
        out << left_open;
    }
    Storage storage(options(dir.path));
    ReplayStats stats;
    const auto batches = replay(storage, kTarget, &stats);
    CHECK(stats.torn_bytes == 0);
    CHECK(stats.damaged == 0);
    std::uint64_t rows = 0;
    for (const auto& b : batches)
        rows += b.row_count;
    CHECK(rows == 10);
    // Replay cut the zeros: the file holds its records only.
    CHECK(std::filesystem::file_size(seg) == records_end);
}

TEST_CASE("a full segment is closed at the size of its records") {
    TempDir dir;
    Storage storage(options(dir.path));  // 1 MiB segments
    auto wal = storage.open(kTarget).wal;
    const std::string rows(300 * 1024, 'x');
    for (int i = 0; i < 5; ++i) {
        wal->append_data(rows + "\n");
        wal->flush(true);
    }
    const auto segments = list_segments(dir.path / "wal" / "default.events");
    REQUIRE(segments.size() == 2);
    CHECK(segments[0].bytes == 4 * (rows.size() + 1 + kHeaderSize));
    // The open segment counts with the zeros preallocated ahead of its record.
    CHECK(wal->disk_bytes() == segments[0].bytes + segments[1].bytes);
    CHECK(segments[1].bytes > rows.size() + 1 + kHeaderSize);
}

TEST_CASE("with preallocation off the open segment holds its records only") {
    TempDir dir;
    auto o = options(dir.path, 0);
    Storage storage(o);
    auto wal = storage.open(kTarget).wal;
    wal->append_data("{\"n\":1}\n");
    wal->flush(true);
    const auto seg = list_segments(dir.path / "wal" / "default.events").at(0);
    CHECK(seg.bytes == wal->disk_bytes());
}
