#pragma once

#include <string>
#include <string_view>

#include "ingest/RowCheck.hpp"

namespace chgate::ingest {

/// The type a new column gets from the first value a field brings
/// (schema_evolution: add_columns), or why none: always Nullable, so that
/// the events before it and those without the field read as NULL.
struct InferredType {
    std::string type;  ///< "Nullable(Int64)"; empty when `why_not` is set
    const char* why_not = nullptr;
};

/// From `value` (valid JSON text):
/// - true, false: Nullable(UInt8);
/// - an integer: Nullable(Int64), or Nullable(UInt64) past Int64; past that, none;
/// - any other number: Nullable(Float64);
/// - a string that starts YYYY-MM-DD and that a DateTime column takes (with
///   `coerce`, once rewritten): Nullable(DateTime); any other string:
///   Nullable(String);
/// - null, an object or an array: none (null says nothing of a type; 18.16
///   has no JSON column for the others).
InferredType infer_column_type(std::string_view value, const CheckOptions& options, bool coerce,
                               std::string& scratch);

}  // namespace chgate::ingest
