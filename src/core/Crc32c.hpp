#pragma once

#include <cstddef>
#include <cstdint>

namespace chgate::core {

/// CRC-32C (Castagnoli), as in iSCSI and ext4: the SSE4.2 instruction where
/// the CPU has it, a table otherwise. `crc` continues a previous value.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);

}  // namespace chgate::core
