#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace chgate::store {
class DeadLetters;
}

namespace chgate::batch {

class BatchManager;
class Table;

/// Where a row was found bad: at the door (its fields did not fit the
/// columns) or in an INSERT ClickHouse refused (found by bisection).
enum class QuarantineStage { ingest, insert };

/// One bad row on its way to the quarantine table.
struct QuarantinedRow {
    std::string_view row;  ///< the event as it was sent
    int code = 0;          ///< ClickHouse's error code; 0 at the door
    std::string_view field;
    std::string_view error;
};

/// The columns of every quarantine table, as chgate creates it (ClickHouse
/// 18.16 and later).
std::string quarantine_table_ddl(std::string_view database, std::string_view table);

/// Appends one quarantine row (a JSON object of the quarantine table's
/// columns, no newline) to `out`.
void append_quarantine_json(std::string& out, std::chrono::system_clock::time_point time,
                            std::string_view table, std::string_view batch_id,
                            std::string_view token, QuarantineStage stage,
                            const QuarantinedRow& row);

/// Sends bad rows of a table with on_invalid: quarantine into its
/// quarantine table, through that table's own buffer (and write-ahead log),
/// like any rows. Safe from any thread.
class Quarantine {
  public:
    explicit Quarantine(BatchManager& manager) : manager_(manager) {}

    /// False, with `error`, when the quarantine table cannot take the rows now
    /// (its quota full, its name too long, its log failed): the caller keeps
    /// them elsewhere (the dead letters) or refuses them. With `wait_durable`
    /// (not on an io thread), returns once the quarantine table's log has
    /// them on disk, so that the caller may forget them.
    bool add(Table& source, QuarantineStage stage, std::string_view batch_id,
             std::string_view token, std::span<const QuarantinedRow> rows, std::string& error,
             bool wait_durable = false);

    /// Moves the dead letters of `source` (rows kept there while its
    /// quarantine table could not take them, or given up on) into its
    /// quarantine table, stage insert. The files go once every row is in the
    /// quarantine table's log; if it cannot take them all now they are put
    /// back (and the rows moved so far will be moved twice).
    /// Returns the rows moved. Blocks: not on an io thread.
    std::uint64_t take_dead_letters(Table& source, store::DeadLetters& dead_letters,
                                    std::string& error);

  private:
    BatchManager& manager_;
};

}  // namespace chgate::batch
