#include "store/WalFormat.hpp"

#include <cstring>

#include "core/Crc32c.hpp"

namespace chgate::store {
namespace {

// chgate runs on little-endian machines (x86_64, aarch64): memcpy is the encoding.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the WAL format is little-endian");

template <typename T>
void put(char*& p, T v) {
    std::memcpy(p, &v, sizeof v);
    p += sizeof v;
}

template <typename T>
T get(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

std::uint32_t checksum(std::uint32_t type, std::uint64_t lsn, std::uint32_t length,
                       std::string_view payload) {
    char fields[16];
    char* p = fields;
    put(p, type);
    put(p, lsn);
    put(p, length);
    return core::crc32c(payload.data(), payload.size(), core::crc32c(fields, sizeof fields));
}

}  // namespace

void encode_record(std::string& out, RecordType type, std::uint64_t lsn, std::string_view payload) {
    const auto length = static_cast<std::uint32_t>(payload.size());
    const auto t = static_cast<std::uint32_t>(type);
    const auto old = out.size();
    out.resize(old + kHeaderSize + payload.size());
    char* p = out.data() + old;
    put(p, kRecordMagic);
    put(p, length);
    put(p, checksum(t, lsn, length, payload));
    put(p, t);
    put(p, lsn);
    std::memcpy(p, payload.data(), payload.size());
}

std::string encode_range(const BatchRange& r, RecordType type) {
    std::string out(type == RecordType::done ? 28 : 24, '\0');
    char* p = out.data();
    put(p, r.batch_id);
    put(p, r.first_lsn);
    put(p, r.last_lsn);
    if (type == RecordType::done) put(p, static_cast<std::uint32_t>(r.outcome));
    return out;
}

bool decode_range(std::string_view payload, RecordType type, BatchRange& out) {
    const std::size_t want = type == RecordType::done ? 28 : 24;
    if (payload.size() != want) return false;
    out.batch_id = get<std::uint64_t>(payload.data());
    out.first_lsn = get<std::uint64_t>(payload.data() + 8);
    out.last_lsn = get<std::uint64_t>(payload.data() + 16);
    if (type == RecordType::done) {
        out.outcome = static_cast<DoneOutcome>(get<std::uint32_t>(payload.data() + 24));
    }
    return out.first_lsn <= out.last_lsn;
}

DecodeStatus decode_record(std::string_view bytes, Record& out, std::size_t& size) {
    if (bytes.size() < 4) return DecodeStatus::truncated;
    if (get<std::uint32_t>(bytes.data()) != kRecordMagic) return DecodeStatus::bad_magic;
    if (bytes.size() < kHeaderSize) return DecodeStatus::truncated;
    const auto length = get<std::uint32_t>(bytes.data() + 4);
    const auto crc = get<std::uint32_t>(bytes.data() + 8);
    const auto type = get<std::uint32_t>(bytes.data() + 12);
    const auto lsn = get<std::uint64_t>(bytes.data() + 16);
    if (length > kMaxPayload) return DecodeStatus::bad_length;
    if (bytes.size() < kHeaderSize + length) return DecodeStatus::truncated;
    const auto payload = bytes.substr(kHeaderSize, length);
    if (checksum(type, lsn, length, payload) != crc) return DecodeStatus::bad_crc;
    if (type < 1 || type > 3) return DecodeStatus::bad_crc;
    out.type = static_cast<RecordType>(type);
    out.lsn = lsn;
    out.payload = payload;
    size = kHeaderSize + length;
    return DecodeStatus::ok;
}

}  // namespace chgate::store
