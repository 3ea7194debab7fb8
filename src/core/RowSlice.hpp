#pragma once

#include <cstdint>

namespace chgate::core {

/// Where one event sits in a request body: what parsing (ingest) hands to the
/// buffers (batch). Rows are never copied here; the buffer copies them once,
/// straight from the body.
struct RowSlice {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    /// The event spans lines. The buffer must fold its line breaks (which can
    /// only be whitespace in valid JSON) so that each row stays one NDJSON line.
    bool has_line_break = false;
};

}  // namespace chgate::core
