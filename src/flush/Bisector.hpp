#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/ErrorClassifier.hpp"

namespace chgate::flush {

/// A row ClickHouse refused, with its reason.
struct BadRow {
    std::size_t index = 0;  ///< its position in the batch, from 0
    std::string_view row;   ///< without its newline; points into the batch's rows
    int code = 0;
    std::string message;
    /// Every row of the INSERT whose refusal `message` is had the same owner as
    /// this one: the message quotes no other request's rows.
    bool message_is_owners = false;
    /// Not isolated: the INSERT budget ran out first (`message` is the last error).
    bool unresolved = false;
};

struct BisectResult {
    std::uint64_t inserted_rows = 0;
    std::uint64_t inserts = 0;     ///< INSERTs made, successful or not
    std::uint64_t successful = 0;  ///< of them, those that succeeded (each made a part)
    std::vector<BadRow> bad_rows;  ///< in the order found
    /// Set when a transient failure (network, overload, a missing table) cut
    /// the search short: then `remainder` lists the rows neither inserted nor
    /// found bad, by position, ascending.
    bool interrupted = false;
    clickhouse::InsertOutcome interruption;
    std::vector<std::size_t> remainder;
};

/// Finds the rows ClickHouse refuses in `rows` (NDJSON, a newline after each)
/// and inserts every other one, in few INSERTs and fewer parts. `first` is the
/// refusal of the whole batch. Where ClickHouse names the row ("(at row N)",
/// the first it could not parse), that row is set aside as bad and the others
/// are tried again together, in one INSERT; otherwise the rows are halved. So
/// a batch with k bad rows that ClickHouse names takes k + 1 INSERTs, of which
/// only the last succeeds and makes a part. At most `max_inserts` INSERTs are
/// made; the rows left unresolved then are reported bad with the last error
/// (`unresolved`). `owners` (empty, or one per row) says which request each row
/// came from, for BadRow::message_is_owners. Pure: `insert` is the only I/O.
BisectResult bisect(std::string_view rows, const clickhouse::InsertOutcome& first,
                    const std::function<clickhouse::InsertOutcome(std::string_view)>& insert,
                    std::uint64_t max_inserts, std::span<const std::uint32_t> owners = {});

/// N in the last "(at row N)" of a ClickHouse error (1-based), or 0.
std::uint64_t error_row(std::string_view message);

/// Where each row of `rows` (NDJSON) starts, plus rows.size() at the end.
std::vector<std::size_t> row_starts(std::string_view rows);

}  // namespace chgate::flush
