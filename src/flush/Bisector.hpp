#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/ErrorClassifier.hpp"

namespace chgate::flush {

/// A row ClickHouse refused, with its reason.
struct BadRow {
    std::string_view row;  ///< without its newline; points into the batch's rows
    int code = 0;
    std::string message;
};

struct BisectResult {
    std::uint64_t inserted_rows = 0;
    std::uint64_t inserts = 0;  ///< INSERTs made, successful or not
    std::vector<BadRow> bad_rows;
    /// Set when a transient failure (network, overload, a missing table) cut
    /// the search short: the rows not yet inserted nor found bad, as NDJSON.
    bool interrupted = false;
    clickhouse::InsertOutcome interruption;
    std::string remainder;
    std::uint64_t remainder_rows = 0;
};

/// Finds the rows ClickHouse refuses in `rows` (NDJSON, a newline after each),
/// inserting every other row. `first` is the refusal of the whole batch. Where
/// ClickHouse names the row ("(at row N)"), the rows before it are inserted,
/// the named row is tried alone, and the search goes on after it; otherwise the
/// range is halved. At most `max_inserts` INSERTs are made; rows left when that
/// runs out are reported bad, as not isolated. Pure: `insert` is the only I/O.
BisectResult bisect(std::string_view rows, const clickhouse::InsertOutcome& first,
                    const std::function<clickhouse::InsertOutcome(std::string_view)>& insert,
                    std::uint64_t max_inserts);

/// N in the last "(at row N)" of a ClickHouse error (1-based), or 0.
std::uint64_t error_row(std::string_view message);

}  // namespace chgate::flush
