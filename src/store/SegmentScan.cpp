#include "store/SegmentScan.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace chgate::store {
namespace {

// The first offset after `from` holding a whole valid record, or npos.
std::size_t find_next_valid(std::string_view bytes, std::size_t from) {
    char magic[4];
    std::memcpy(magic, &kRecordMagic, 4);
    const std::string_view needle(magic, 4);
    for (auto at = bytes.find(needle, from); at != std::string_view::npos;
         at = bytes.find(needle, at + 1)) {
        Record r;
        std::size_t size = 0;
        if (decode_record(bytes.substr(at), r, size) == DecodeStatus::ok) return at;
    }
    return std::string_view::npos;
}

bool all_zero(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

ScanResult scan_bytes(std::string_view bytes, const std::function<void(const Record&)>& visit) {
    ScanResult result;
    result.opened = true;
    result.file_size = bytes.size();
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        Record r;
        std::size_t size = 0;
        if (decode_record(bytes.substr(pos), r, size) == DecodeStatus::ok) {
            visit(r);
            ++result.records;
            pos += size;
            result.good_end = pos;
            continue;
        }
        // Not a record here. Zeros to the end: preallocated space, the clean end.
        if (bytes[pos] == 0 && all_zero(bytes.substr(pos))) {
            result.zero_tail = bytes.size() - pos;
            break;
        }
        // Otherwise skip to the next valid record, if there is one.
        const auto next = find_next_valid(bytes, pos + 1);
        if (next == std::string_view::npos) {
            result.torn_tail = true;
            // The zeros after a record cut short were preallocated, not torn.
            const auto last = bytes.find_last_not_of('\0');
            result.zero_tail = bytes.size() - (last + 1);
            break;
        }
        ++result.damaged;
        result.damaged_bytes += next - pos;
        pos = next;
    }
    return result;
}

ScanResult scan_segment(const std::filesystem::path& path,
                        const std::function<void(const Record&)>& visit) {
    ScanResult result;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        result.error = "cannot open " + path.string() + ": " + std::strerror(errno);
        return result;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        result.error = "cannot stat " + path.string() + ": " + std::strerror(errno);
        ::close(fd);
        return result;
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        result.opened = true;
        return result;
    }
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) {
        result.error = "cannot map " + path.string() + ": " + std::strerror(errno);
        return result;
    }
    ::madvise(map, size, MADV_SEQUENTIAL);
    result = scan_bytes(std::string_view(static_cast<const char*>(map), size), visit);
    ::munmap(map, size);
    return result;
}

}  // namespace chgate::store
