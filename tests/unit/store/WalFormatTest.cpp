// The log's record format: records encoded, then scanned back from bytes
// (SegmentScan), whole, torn, zeroed or damaged.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store/SegmentScan.hpp"
#include "store/WalFormat.hpp"

using namespace chgate;
using namespace chgate::store;

namespace {

std::vector<Record> scan_all(std::string_view bytes, ScanResult& result) {
    std::vector<Record> out;
    result = scan_bytes(bytes, [&](const Record& r) { out.push_back(r); });
    return out;
}

}  // namespace

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
