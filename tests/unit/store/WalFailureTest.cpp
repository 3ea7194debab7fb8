#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "store/SegmentScan.hpp"
#include "store/WalFormat.hpp"
#include "support/WalSupport.hpp"

using namespace chgate;
using namespace chgate::store;
using namespace chgate::test::wal;

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
