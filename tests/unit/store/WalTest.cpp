#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <future>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include <fstream>
#include "support/TempDir.hpp"

#include "core/Crc32c.hpp"
#include "store/SegmentScan.hpp"
#include "store/Storage.hpp"
#include "store/Wal.hpp"
#include "store/WalFormat.hpp"

using namespace chgate;
using namespace chgate::store;

namespace {

struct TempDir : test::TempDir {
    TempDir() : test::TempDir("chgate-wal") {}
};

std::vector<Record> scan_all(std::string_view bytes, ScanResult& result) {
    std::vector<Record> out;
    result = scan_bytes(bytes, [&](const Record& r) { out.push_back(r); });
    return out;
}

StorageOptions options(const std::filesystem::path& dir, std::uint64_t preallocate = 1 << 20) {
    StorageOptions o;
    o.dir = dir;
    o.wal.segment_size = 1 << 20;
    o.wal.preallocate = preallocate;
    return o;
}

std::vector<ReplayedBatch> replay(Storage& storage, const LogTarget& target,
                                  ReplayStats* stats = nullptr) {
    auto opened = storage.open(target);
    std::vector<ReplayedBatch> out;
    if (!opened.replay) return out;
    const auto s =
        opened.replay->run([&](ReplayedBatch&& b) { out.push_back(std::move(b)); }, 1 << 20);
    if (stats) *stats = s;
    return out;
}

const LogTarget kTarget{"default", "events", {}};

}  // namespace

TEST_CASE("CRC-32C matches the standard check value") {
    CHECK(core::crc32c("123456789", 9) == 0xE3069283u);
    CHECK(core::crc32c("", 0) == 0u);
    // Continuing a CRC equals computing it in one go.
    CHECK(core::crc32c("56789", 5, core::crc32c("1234", 4)) == 0xE3069283u);
    const std::string big(100'003, 'x');
    CHECK(core::crc32c(big.data(), big.size()) ==
          core::crc32c(big.data() + 3, big.size() - 3, core::crc32c(big.data(), 3)));
}

TEST_CASE("records encode and decode") {
    std::string bytes;
    encode_record(bytes, RecordType::data, 7, "{\"a\":1}\n");
    encode_record(bytes, RecordType::seal, 8, encode_range({42, 7, 7}, RecordType::seal));
    encode_record(bytes, RecordType::done, 9,
                  encode_range({42, 7, 7, DoneOutcome::committed}, RecordType::done));
    ScanResult result;
    const auto records = scan_all(bytes, result);
    REQUIRE(records.size() == 3);
    CHECK(records[0].type == RecordType::data);
    CHECK(records[0].lsn == 7);
    CHECK(records[0].payload == "{\"a\":1}\n");
    BatchRange seal, done;
    REQUIRE(decode_range(records[1].payload, RecordType::seal, seal));
    CHECK((seal.batch_id == 42 && seal.first_lsn == 7 && seal.last_lsn == 7));
    REQUIRE(decode_range(records[2].payload, RecordType::done, done));
    CHECK(done.outcome == DoneOutcome::committed);
    CHECK(result.good_end == bytes.size());
    CHECK_FALSE(result.torn_tail);
    CHECK(result.damaged == 0);
}

TEST_CASE("a torn tail is found and the rest kept") {
    std::string bytes;
    encode_record(bytes, RecordType::data, 1, "row one\n");
    encode_record(bytes, RecordType::data, 2, "row two\n");
    const auto whole = bytes.size();
    std::string last;
    encode_record(last, RecordType::data, 3, "row three\n");
    for (std::size_t cut = 1; cut < last.size(); ++cut) {
        INFO(cut);
        ScanResult result;
        const auto records = scan_all(bytes + last.substr(0, cut), result);
        CHECK(records.size() == 2);
        CHECK(result.torn_tail);
        CHECK(result.good_end == whole);
    }
}

TEST_CASE("zeros after the records are preallocated space: a clean end") {
    std::string bytes;
    encode_record(bytes, RecordType::data, 1, "row one\n");
    encode_record(bytes, RecordType::seal, 2, encode_range({7, 1, 1}, RecordType::seal));
    const auto whole = bytes.size();
    ScanResult result;
    const auto records = scan_all(bytes + std::string(5000, '\0'), result);
    CHECK(records.size() == 2);
    CHECK_FALSE(result.torn_tail);
    CHECK(result.damaged == 0);
    CHECK(result.good_end == whole);
    CHECK(result.zero_tail == 5000);
    CHECK(result.torn_bytes() == 0);
}

TEST_CASE("a record cut short before preallocated zeros is a torn tail") {
    std::string bytes;
    encode_record(bytes, RecordType::data, 1, "row one\n");
    const auto whole = bytes.size();
    std::string last;
    encode_record(last, RecordType::data, 2, "row two\n");
    for (std::size_t cut = 1; cut < last.size(); ++cut) {
        INFO(cut);
        ScanResult result;
        const auto records =
            scan_all(bytes + last.substr(0, cut) + std::string(4096, '\0'), result);
        CHECK(records.size() == 1);
        CHECK(result.torn_tail);
        CHECK(result.good_end == whole);
        // What was written of the record; zeros in its header count as never written.
        CHECK(result.torn_bytes() > 0);
        CHECK(result.torn_bytes() <= cut);
        CHECK(result.good_end + result.torn_bytes() + result.zero_tail == result.file_size);
    }
}

TEST_CASE("zeros between records are a damaged stretch; the records after it are kept") {
    std::string bytes;
    encode_record(bytes, RecordType::data, 1, "row one\n");
    bytes.append(4096, '\0');  // a page written after the next one, lost in a crash
    encode_record(bytes, RecordType::data, 3, "row three\n");
    bytes.append(100, '\0');
    ScanResult result;
    const auto records = scan_all(bytes, result);
    REQUIRE(records.size() == 2);
    CHECK(records[1].lsn == 3);
    CHECK(result.damaged == 1);
    CHECK(result.damaged_bytes == 4096);
    CHECK_FALSE(result.torn_tail);
    CHECK(result.zero_tail == 100);
}

TEST_CASE("a flipped byte costs one record; the records after it survive") {
    std::string bytes;
    for (std::uint64_t i = 1; i <= 5; ++i) {
        encode_record(bytes, RecordType::data, i, "row " + std::to_string(i) + "\n");
    }
    const auto record_size = bytes.size() / 5;
    for (std::size_t at = 0; at < record_size; ++at) {
        INFO(at);
        std::string damaged = bytes;
        damaged[2 * record_size + at] ^= 0x40;  // inside record 3: header or payload
        ScanResult result;
        const auto records = scan_all(damaged, result);
        REQUIRE(records.size() == 4);
        CHECK(records[2].lsn == 4);
        CHECK(result.damaged == 1);
        CHECK_FALSE(result.torn_tail);
    }
}

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

namespace {
std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

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

namespace {
// Makes writes past `bytes` fail with EFBIG, as a full disk would, until destroyed.
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
    rlimit old{};
    void (*old_handler)(int) = nullptr;
};
}  // namespace

namespace {
std::optional<bool> durable(Wal& wal, std::uint64_t lsn) {
    std::optional<bool> result;
    wal.when_durable(lsn, [&](bool ok) { result = ok; });
    return result;
}

std::string all_rows(const std::vector<ReplayedBatch>& batches) {
    std::string rows;
    for (const auto& b : batches)
        rows += b.rows;
    return rows;
}
}  // namespace

TEST_CASE("a failed write fails its waiters; the log recovers in a new segment") {
    TempDir dir;
    auto o = options(dir.path, 0);
    const std::string row(3000, 'x');
    {
        Storage storage(o);
        auto wal = storage.open(kTarget).wal;
        const auto l1 = wal->append_data(row + "\n");
        wal->flush(true);
        CHECK(durable(*wal, l1) == std::optional<bool>(true));
        std::uint64_t l3 = 0;
        {
            FileSizeLimit limit(4096);
            const auto l2 = wal->append_data(row + "\n");
            std::optional<bool> r2;
            wal->when_durable(l2, [&](bool ok) { r2 = ok; });
            wal->flush(true);
            CHECK(r2 == std::optional<bool>(false));  // the write failed
            CHECK(wal->failed());
            CHECK_THAT(wal->failure(), Catch::Contains("File too large"));
            l3 = wal->append_data("{\"n\":3}\n");  // not kept while the log is down
            CHECK(durable(*wal, l3) == std::optional<bool>(false));  // failed at once
            wal->flush(true);                                        // too soon to try again
            CHECK(wal->failed());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        // Tried again in a new segment, with the failed write's records first.
        wal->flush(true);
        CHECK_FALSE(wal->failed());
        CHECK(wal->failure().empty());
        const auto l4 = wal->append_data("{\"n\":4}\n");
        wal->flush(true);
        CHECK(durable(*wal, l4) == std::optional<bool>(true));
        // l3 was never written: no durable ack for it, even now.
        CHECK(durable(*wal, l3) == std::optional<bool>(false));
        CHECK(list_segments(dir.path / "wal" / "default.events").size() == 2);
    }
    Storage storage(o);
    // l1; l2 (its requester heard 503, but its rows were buffered and are on
    // their way, so the log keeps them); l4. Not l3.
    CHECK(all_rows(replay(storage, kTarget)) == row + "\n" + row + "\n{\"n\":4}\n");
}

TEST_CASE("a segment opened for a write that failed is removed; the retry takes its name") {
    TempDir dir;
    auto o = options(dir.path, 0);
    const auto log_dir = dir.path / "wal" / "default.events";
    Storage storage(o);
    auto wal = storage.open(kTarget).wal;
    {
        FileSizeLimit limit(1024);
        wal->append_data(std::string(3000, 'x') + "\n");
        wal->flush(true);
        REQUIRE(wal->failed());
    }
    CHECK(list_segments(log_dir).empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    wal->flush(true);
    CHECK_FALSE(wal->failed());
    const auto segments = list_segments(log_dir);
    REQUIRE(segments.size() == 1);
    CHECK(segments[0].first_lsn == 1);
}

TEST_CASE("seals and commits recorded while the log is down are written once it is back") {
    TempDir dir;
    auto o = options(dir.path, 0);
    const std::string row(3000, 'x');
    {
        Storage storage(o);
        auto wal = storage.open(kTarget).wal;
        const auto a = wal->append_data("{\"a\":1}\n");
        wal->append_seal(7, a, a);
        const auto b = wal->append_data("{\"b\":1}\n");
        wal->append_seal(8, b, b);
        wal->flush(true);
        {
            FileSizeLimit limit(1024);
            wal->append_data(row + "\n");
            wal->flush(true);
            REQUIRE(wal->failed());
            // Batch 7 is committed while the log is down.
            wal->append_done({7, a, a, DoneOutcome::committed});
            wal->flush(true);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        wal->flush(true);
        REQUIRE_FALSE(wal->failed());
    }
    Storage storage(o);
    // Batch 7 is not sent again; batch 8 and the buffered row are.
    const auto batches = replay(storage, kTarget);
    REQUIRE(batches.size() == 2);
    CHECK(batches[0].id == 8);
    CHECK(batches[1].rows == row + "\n");
}

TEST_CASE("a stop tries a failed log again at once") {
    TempDir dir;
    auto o = options(dir.path, 0);
    {
        Storage storage(o);
        auto wal = storage.open(kTarget).wal;
        storage.writer().start();
        auto wait_durable = [&](std::uint64_t lsn) {
            std::promise<bool> p;
            auto f = p.get_future();
            wal->when_durable(lsn, [&p](bool ok) { p.set_value(ok); });
            return f.get();
        };
        const auto a = wal->append_data("{\"a\":1}\n");
        wal->append_seal(7, a, a);
        REQUIRE(wait_durable(a));
        {
            FileSizeLimit limit(256);
            REQUIRE_FALSE(wait_durable(wal->append_data(std::string(3000, 'x') + "\n")));
        }
        REQUIRE(wal->failed());
        wal->append_done({7, a, a, DoneOutcome::committed});
        storage.writer().stop();  // well before the next try would be due
        CHECK_FALSE(wal->failed());
    }
    Storage storage(o);
    // Batch 7's done record is on disk: only the buffered row comes back.
    const auto batches = replay(storage, kTarget);
    REQUIRE(batches.size() == 1);
    CHECK(batches[0].new_id);
}

TEST_CASE("what a log keeps while it is down is bounded by the segment size") {
    TempDir dir;
    auto o = options(dir.path, 0);
    o.wal.segment_size = 4096;
    {
        Storage storage(o);
        auto wal = storage.open(kTarget).wal;
        const auto a = wal->append_data("{\"a\":1}\n");
        wal->append_seal(7, a, a);
        wal->flush(true);
        {
            FileSizeLimit limit(256);
            wal->append_data(std::string(3000, 'x') + "\n");
            wal->flush(true);
            REQUIRE(wal->failed());
        }
        wal->append_done({7, a, a, DoneOutcome::committed});
        for (int i = 0; i < 200; ++i)  // more than 4096 bytes of records
            wal->append_done({1000 + static_cast<std::uint64_t>(i), 1, 1, DoneOutcome::committed});
        wal->flush(true);  // down, too soon to try again: the kept records are dropped
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        // Nothing left to write: the log tries a page of zeros in a new segment.
        wal->flush(true);
        CHECK_FALSE(wal->failed());
        CHECK(list_segments(dir.path / "wal" / "default.events").size() == 2);
    }
    Storage storage(o);
    // Batch 7's done record was dropped: it is sent again (a duplicate
    // unless the server deduplicates), as the log said it would be.
    const auto batches = replay(storage, kTarget);
    REQUIRE(batches.size() == 1);
    CHECK(batches[0].id == 7);
}

TEST_CASE("records written again after a failed sync are replayed once") {
    TempDir dir;
    const auto log_dir = dir.path / "wal" / "default.events";
    {
        Storage storage(options(dir.path));
        storage.open(kTarget);  // creates the directory and meta.json
    }
    auto write_segment = [&](std::uint64_t first, std::uint64_t last) {
        std::string bytes;
        for (auto lsn = first; lsn <= last; ++lsn)
            encode_record(bytes, RecordType::data, lsn, "{\"n\":" + std::to_string(lsn) + "}\n");
        std::ofstream(log_dir / segment_name(first), std::ios::binary) << bytes;
    };
    write_segment(1, 3);  // 2 and 3 written, their sync failed...
    write_segment(2, 4);  // ...and written again in the next segment
    Storage storage(options(dir.path));
    CHECK(all_rows(replay(storage, kTarget)) == "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n");
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

namespace {
// fdatasync, failing with EIO the next `g_failing_syncs` times.
int g_failing_syncs = 0;
int flaky_sync(int fd) {
    if (g_failing_syncs > 0) {
        --g_failing_syncs;
        errno = EIO;
        return -1;
    }
    return ::fdatasync(fd);
}
}  // namespace

TEST_CASE("after a failed fdatasync the records are written again in a new segment, once") {
    TempDir dir;
    auto o = options(dir.path);
    o.wal.sync = flaky_sync;
    {
        Storage storage(o);
        auto wal = storage.open(kTarget).wal;
        const auto a = wal->append_data("{\"a\":1}\n");
        wal->flush(true);
        CHECK(durable(*wal, a) == std::optional<bool>(true));
        const auto b = wal->append_data("{\"b\":1}\n");
        std::optional<bool> rb;
        wal->when_durable(b, [&](bool ok) { rb = ok; });
        g_failing_syncs = 1;
        wal->flush(true);  // written, then the sync fails: b is in doubt
        CHECK(rb == std::optional<bool>(false));
        CHECK_THAT(wal->failure(),
                   Catch::Contains("fdatasync") && Catch::Contains("Input/output error"));
        wal->retry_now();
        wal->flush(true);  // b again, in a new segment
        CHECK_FALSE(wal->failed());
        CHECK(durable(*wal, b) == std::optional<bool>(false));  // its requester heard 503
        CHECK(list_segments(dir.path / "wal" / "default.events").size() == 2);
    }
    Storage storage(o);
    // b is whole in both segments: replayed once.
    CHECK(all_rows(replay(storage, kTarget)) == "{\"a\":1}\n{\"b\":1}\n");
}

TEST_CASE("fsync interval: a failed periodic sync takes the log down until a try succeeds") {
    TempDir dir;
    auto o = options(dir.path);
    o.wal.fsync = FsyncMode::interval;
    o.wal.sync = flaky_sync;
    Storage storage(o);
    auto wal = storage.open(kTarget).wal;
    const auto a = wal->append_data("{\"a\":1}\n");
    wal->flush(false);  // written: acknowledged in this mode
    CHECK(durable(*wal, a) == std::optional<bool>(true));
    g_failing_syncs = 1;
    wal->sync_if_dirty();
    CHECK(wal->failed());
    CHECK_THAT(wal->failure(), Catch::Contains("fdatasync"));
    CHECK(durable(*wal, wal->append_data("{\"b\":1}\n")) == std::optional<bool>(false));
    wal->retry_now();
    wal->flush(false);  // nothing to write: the probe, with its sync, succeeds
    CHECK_FALSE(wal->failed());
    const auto c = wal->append_data("{\"c\":1}\n");
    wal->flush(false);
    CHECK(durable(*wal, c) == std::optional<bool>(true));
}

TEST_CASE("fsync interval: a failed sync when a full segment is closed takes the log down") {
    TempDir dir;
    auto o = options(dir.path);
    o.wal.fsync = FsyncMode::interval;
    o.wal.segment_size = 4096;
    o.wal.sync = flaky_sync;
    Storage storage(o);
    auto wal = storage.open(kTarget).wal;
    g_failing_syncs = 1;
    wal->append_data(std::string(5000, 'x') + "\n");
    wal->flush(false);  // fills the segment; the sync before closing it fails
    CHECK(wal->failed());
    CHECK(g_failing_syncs == 0);
}
