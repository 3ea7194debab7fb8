#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chgate::store {

/// A write-ahead log is a directory of segment files, each a run of records:
///
///   magic u32 | length u32 | crc u32 | type u32 | lsn u64 | payload[length]
///
/// little-endian; crc is CRC-32C over type, lsn, length and the payload. The
/// magic lets a reader find the next record after a damaged one.
inline constexpr std::uint32_t kRecordMagic = 0x57474843;  // "CHGW"
inline constexpr std::size_t kHeaderSize = 24;
inline constexpr std::uint32_t kMaxPayload = 1u << 30;

enum class RecordType : std::uint32_t {
    data = 1,  ///< rows, NDJSON, all bound for one batch
    seal = 2,  ///< a batch was sealed: its id and LSN range
    done = 3,  ///< a batch is finished (committed, or moved elsewhere): its LSN range
};

/// What became of a finished batch, kept in its done record.
enum class DoneOutcome : std::uint32_t { committed = 1, quarantined = 2, spooled = 3, dropped = 4 };

/// A seal or done record's payload.
struct BatchRange {
    std::uint64_t batch_id = 0;
    std::uint64_t first_lsn = 0;
    std::uint64_t last_lsn = 0;
    DoneOutcome outcome = DoneOutcome::committed;  ///< done records only
};

struct Record {
    RecordType type = RecordType::data;
    std::uint64_t lsn = 0;
    std::string_view payload;  ///< points into the reader's buffer
};

/// Appends one encoded record to `out`.
void encode_record(std::string& out, RecordType type, std::uint64_t lsn, std::string_view payload);

std::string encode_range(const BatchRange& r, RecordType type);
bool decode_range(std::string_view payload, RecordType type, BatchRange& out);

enum class DecodeStatus {
    ok,
    truncated,  ///< the bytes end inside the record: a torn tail, if at the end of the file
    bad_magic,  ///< not at a record boundary
    bad_length,
    bad_crc,  ///< the whole record is there but its checksum fails
};

/// Decodes the record at the start of `bytes`; on ok, `size` is its full size.
DecodeStatus decode_record(std::string_view bytes, Record& out, std::size_t& size);

}  // namespace chgate::store
