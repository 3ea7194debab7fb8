#include <catch2/catch.hpp>

#include "store/SegmentScan.hpp"
#include "store/WalFormat.hpp"
#include "support/WalSupport.hpp"

using namespace chgate;
using namespace chgate::store;
using namespace chgate::test::wal;

TEST_CASE("a log written, closed and reopened replays what is not done") {
    TempDir dir;
    {
        Storage storage(options(dir.path));
        auto wal = storage.open(kTarget).wal;
        const auto a1 = wal->append_data("{\"a\":1}\n");
        const auto a2 = wal->append_data("{\"a\":2}\n");
        wal->append_seal(100, a1, a2);  // batch 100: committed
        const auto b1 = wal->append_data("{\"b\":1}\n");
        wal->append_seal(101, b1, b1);  // batch 101: sealed, never committed
        const auto c1 = wal->append_data("{\"c\":1}\n{\"c\":2}\n");  // never sealed
        wal->append_done({100, a1, a2, DoneOutcome::committed});
        bool durable = false;
        wal->when_durable(c1, [&](bool ok) { durable = ok; });
        CHECK_FALSE(durable);
        wal->flush(true);
        CHECK(durable);
        CHECK(wal->durable_lsn() >= c1);
    }
    Storage storage(options(dir.path));
    REQUIRE(storage.existing_logs().size() == 1);
    CHECK(storage.existing_logs()[0].table == "events");
    ReplayStats stats;
    const auto batches = replay(storage, kTarget, &stats);
    REQUIRE(batches.size() == 2);
    CHECK(batches[0].id == 101);
    CHECK_FALSE(batches[0].new_id);
    CHECK(batches[0].rows == "{\"b\":1}\n");
    CHECK(batches[1].new_id);
    CHECK(batches[1].rows == "{\"c\":1}\n{\"c\":2}\n");
    CHECK(batches[1].row_count == 2);
    CHECK(stats.skipped_done == 2);
    CHECK(stats.rows == 3);
}

TEST_CASE("a second process cannot open the same storage directory") {
    TempDir dir;
    Storage first(options(dir.path));
    CHECK_THROWS_WITH(Storage(options(dir.path)), Catch::Contains("is in use by another chgate"));
}

TEST_CASE("segments are deleted once their batches are done") {
    TempDir dir;
    Storage storage(options(dir.path));
    auto wal = storage.open(kTarget).wal;
    const std::string rows(300 * 1024, 'x');
    std::vector<BatchRange> batches;
    for (std::uint64_t id = 1; id <= 8; ++id) {
        const auto lsn = wal->append_data(rows + "\n");
        wal->append_seal(id, lsn, lsn);
        batches.push_back({id, lsn, lsn, DoneOutcome::committed});
        wal->flush(false);  // 300 KiB a flush: a new 1 MiB segment every four
    }
    const auto logdir = dir.path / "wal" / "default.events";
    CHECK(list_segments(logdir).size() >= 2);
    const auto before = wal->disk_bytes();
    for (const auto& b : batches)
        wal->append_done(b);
    wal->flush(false);
    wal->collect_garbage();
    CHECK(wal->disk_bytes() < before);
    CHECK(list_segments(logdir).size() <= 1);
}

TEST_CASE("replay cuts a torn tail and skips a damaged record on disk") {
    TempDir dir;
    {
        Storage storage(options(dir.path));
        auto wal = storage.open(kTarget).wal;
        for (int i = 0; i < 10; ++i)
            wal->append_data("{\"n\":" + std::to_string(i) + "}\n");
        wal->flush(true);
    }
    const auto seg = list_segments(dir.path / "wal" / "default.events").at(0).path;
    std::string bytes;
    {
        std::ifstream in(seg, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto record = bytes.size() / 10;
    bytes[4 * record + kHeaderSize + 2] ^= 0x01;  // flip a byte in record 5's payload
    bytes.resize(bytes.size() - 5);               // tear the last record
    {
        std::ofstream out(seg, std::ios::binary | std::ios::trunc);
        out << bytes;
    }
    Storage storage(options(dir.path));
    ReplayStats stats;
    const auto batches = replay(storage, kTarget, &stats);
    CHECK(stats.damaged == 1);
    CHECK(stats.torn_bytes == record - 5);
    std::uint64_t rows = 0;
    for (const auto& b : batches)
        rows += b.row_count;
    CHECK(rows == 8);  // 10 written, one damaged, one torn
    CHECK(std::filesystem::file_size(seg) == bytes.size() - (record - 5));
}

TEST_CASE("a segment that never got a record is removed at replay") {
    TempDir dir;
    const auto logdir = dir.path / "wal" / "default.events";
    {
        Storage storage(options(dir.path));
        auto wal = storage.open(kTarget).wal;
        wal->append_data("{\"n\":1}\n");
        wal->flush(true);
    }
    // A crash right after the next segment was created and preallocated.
    const auto empty = logdir / segment_name(2);
    {
        std::ofstream out(empty, std::ios::binary);
        out << std::string(8192, '\0');
    }
    Storage storage(options(dir.path));
    const auto opened = storage.open(kTarget);
    CHECK_FALSE(std::filesystem::exists(empty));
    REQUIRE(opened.replay);
    // The log goes on at LSN 2, in a segment of that name.
    const auto lsn = opened.wal->append_data("{\"n\":2}\n");
    CHECK(lsn == 2);
    opened.wal->flush(true);
    CHECK(std::filesystem::exists(empty));
}

TEST_CASE("an unreadable segment is set aside; the start goes on with the rest") {
    TempDir dir;
    const auto log_dir = dir.path / "wal" / "default.events";
    {
        Storage storage(options(dir.path));
        storage.open(kTarget);  // creates the directory and meta.json
    }
    // Not a file at all: opening works, reading does not.
    std::filesystem::create_directory(log_dir / segment_name(1));
    std::ofstream(log_dir / segment_name(1) / "x") << "x";
    std::string bytes;
    encode_record(bytes, RecordType::data, 5, "{\"n\":5}\n");
    encode_record(bytes, RecordType::data, 6, "{\"n\":6}\n");
    std::ofstream(log_dir / segment_name(5), std::ios::binary) << bytes;

    Storage storage(options(dir.path));
    auto opened = storage.open(kTarget);
    REQUIRE(opened.replay);
    std::string rows;
    const auto stats =
        opened.replay->run([&](ReplayedBatch&& b) { rows += b.rows; }, std::uint64_t{1} << 20);
    CHECK(rows == "{\"n\":5}\n{\"n\":6}\n");
    CHECK(stats.unreadable_segments == 1);
    CHECK(std::filesystem::is_directory(log_dir / (segment_name(1) + ".unreadable")));
    // New records come after everything the log held.
    CHECK(opened.wal->append_data("{\"n\":7}\n") == 7);
}

TEST_CASE("a shard's files have a directory of their own, and meta.json names the shard") {
    TempDir dir;
    const LogTarget plain{"db", "events", {}};
    const LogTarget shard{"db", "events", {}, 2};
    const LogTarget columns{"db", "events", {"a", "b"}, 2};
    CHECK(target_dir_name(plain) == "db.events");
    CHECK(target_dir_name(shard) == "db.events@2");
    CHECK(target_dir_name(columns).starts_with("db.events~"));
    CHECK(target_dir_name(columns).ends_with("@2"));
    for (const auto& t : {plain, shard, columns}) {
        const auto path = dir.path / target_dir_name(t);
        prepare_target_dir(path, t);
        const auto back = read_target_meta(path);
        REQUIRE(back);
        CHECK(back->table == t.table);
        CHECK(back->columns == t.columns);
        CHECK(back->shard == t.shard);
    }
    // meta.json of an older chgate has no shard: the table itself.
    std::filesystem::create_directories(dir.path / "old");
    std::ofstream(dir.path / "old" / "meta.json")
        << R"({"database":"db","table":"t","columns":[],"format":1})";
    CHECK(read_target_meta(dir.path / "old")->shard == 0);
    // A hostile shard number is no target at all.
    std::filesystem::create_directories(dir.path / "bad");
    std::ofstream(dir.path / "bad" / "meta.json")
        << R"({"database":"db","table":"t","columns":[],"shard":-1})";
    CHECK_FALSE(read_target_meta(dir.path / "bad"));
}

TEST_CASE("replay tells how many bytes of the log it has read, up to all of them") {
    TempDir dir;
    {
        Storage storage(options(dir.path));
        auto wal = storage.open(kTarget).wal;
        for (int i = 0; i < 100; ++i)
            wal->append_data("{\"n\":" + std::to_string(i) + "}\n");
        wal->flush(true);
    }
    Storage storage(options(dir.path));
    const auto opened = storage.open(kTarget);
    REQUIRE(opened.replay);
    const auto total = opened.replay->bytes();
    CHECK(total > 0);
    std::vector<std::uint64_t> read;
    std::uint64_t rows = 0;
    // Batches of about 200 bytes: several, each told where the read is.
    const auto stats = opened.replay->run([&](ReplayedBatch&& b) { rows += b.row_count; }, 200,
                                          [&](std::uint64_t r) { read.push_back(r); });
    CHECK(rows == 100);
    CHECK(stats.batches > 3);
    REQUIRE(read.size() > 3);
    CHECK(std::is_sorted(read.begin(), read.end()));
    CHECK(read.front() > 0);
    CHECK(read.front() < total);
    CHECK(read.back() == total);
}
