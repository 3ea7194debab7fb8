#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/RowSlice.hpp"

namespace chgate::ingest {

using core::RowSlice;

/// How the body is laid out.
enum class BodyFormat {
    detect,  ///< by the first non-space byte: '[' is an array, '{' an object or NDJSON
    ndjson,  ///< objects one after another, normally one per line
};

/// Why a body was refused, for `400 {"error","index","offset"}`.
struct DecodeError {
    std::string message;
    std::size_t index = 0;   ///< which event (0-based)
    std::size_t offset = 0;  ///< byte offset in the decoded body
};

/// Splits a body into events, validating each as a JSON object. All or nothing:
/// on failure returns false and `rows` must be ignored. `rows` is cleared first
/// and keeps its capacity, so a connection can reuse it across requests.
bool decode_body(std::string_view body, BodyFormat format, std::vector<RowSlice>& rows,
                 DecodeError& error);

/// Bodies above this size cannot be sliced with 32-bit offsets.
inline constexpr std::size_t kMaxDecodableBody = (1ULL << 32) - 1;

}  // namespace chgate::ingest
