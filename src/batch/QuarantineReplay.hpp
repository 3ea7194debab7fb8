#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace chgate {
class ProgressBoard;
}

namespace chgate::batch {

class BatchManager;
class Quarantine;
class Table;

/// Which quarantined rows a replay takes (POST /admin/quarantine/{t}/replay?...).
struct QuarantineFilter {
    std::optional<std::int64_t> since;  ///< unix seconds: rows quarantined at or after
    std::optional<int> code;            ///< ClickHouse's error code (0: refused at the door)
    std::optional<std::string> field;
};

struct QuarantineReplayResult {
    std::uint64_t rows = 0;     ///< quarantined rows taken
    std::uint64_t sent = 0;     ///< of those, sent to the table
    std::uint64_t refused = 0;  ///< of those, that still do not fit: quarantined anew
    bool committed = true;      ///< every row sent is in ClickHouse (else some were refused
                                ///< again there, and quarantined anew)
    std::uint64_t removed = 0;  ///< taken rows removed from the quarantine table
    std::string error;          ///< set when the replay could not finish
};

/// Runs SQL on ClickHouse: true with the answer's body, or false with why.
using QuarantineQuery =
    std::function<bool(const std::string& sql, std::string& answer, std::string& error)>;
/// The door's check of one event under the table's columns now: the reason
/// it does not fit (nullopt: it fits, or nothing checks it); `rewritten`
/// holds it rewritten under schema: coerce, else stays empty.
using QuarantineCheck =
    std::function<std::optional<std::string>(std::string_view row, std::string& rewritten)>;

/// Sends a table's quarantined rows again (after a schema fix, say): each
/// is checked at the door as a client's event would be; those that fit are
/// appended to the table's buffers and waited for until ClickHouse has them
/// (or refused them, and they were quarantined anew), those that do not are
/// quarantined anew; then the rows taken are removed from the quarantine
/// table (ALTER TABLE … DELETE, waited for). In passes of at most 2,000
/// distinct rows, at most 1,000,000 rows a call; rows quarantined during the
/// replay are left for the next one. A crash between sending and removing
/// sends those rows again at the next replay: never lost, perhaps twice.
/// Blocks: run it off the io threads. Shows its progress on `progress` (if
/// set) and in the log every 5 s: rows taken and left (counted first).
QuarantineReplayResult replay_quarantine(BatchManager& manager, Quarantine& quarantine,
                                         Table& table, const QuarantineFilter& filter,
                                         const QuarantineQuery& query, const QuarantineCheck& check,
                                         const std::atomic<bool>& stop,
                                         ProgressBoard* progress = nullptr);

/// A string as a ClickHouse SQL literal, quoted.
std::string sql_string(std::string_view s);

}  // namespace chgate::batch
