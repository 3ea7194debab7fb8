#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "store/WalFormat.hpp"

namespace chgate::store {

/// What reading one segment found.
struct ScanResult {
    bool opened = false;
    std::string error;           ///< when the file could not be read
    std::uint64_t records = 0;   ///< valid records
    std::uint64_t good_end = 0;  ///< offset just past the last valid record
    std::uint64_t damaged = 0;   ///< damaged stretches skipped between valid records
    std::uint64_t damaged_bytes = 0;
    bool torn_tail = false;  ///< the file ends inside a record (or in garbage)
    /// Zeros at the end, after good_end (or after a torn tail): space
    /// preallocated and never written, where a log that was still open ends.
    /// Not damage.
    std::uint64_t zero_tail = 0;
    std::uint64_t torn_bytes() const { return torn_tail ? file_size - good_end - zero_tail : 0; }
    std::uint64_t file_size = 0;
};

/// Reads a segment record by record, calling `visit` for each valid one in
/// file order. A damaged record followed by valid ones is skipped and counted;
/// damage with nothing valid after it is a torn tail, ending at good_end, unless
/// it is all zeros (preallocated, see zero_tail). The
/// file is mapped, not loaded: memory stays bounded whatever its size.
ScanResult scan_segment(const std::filesystem::path& path,
                        const std::function<void(const Record&)>& visit);

/// The same over bytes in memory (the mapping, or a test's string).
ScanResult scan_bytes(std::string_view bytes, const std::function<void(const Record&)>& visit);

}  // namespace chgate::store
