#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/Clock.hpp"
#include "core/EnumNames.hpp"
#include "flush/CommitWaiter.hpp"

namespace chgate::flush {

class BatchOwner;

/// Why a buffer became a batch (`admin`: POST /admin/flush). Shown per table in /metrics.
enum class FlushReason { immediate, size, time, memory, age, shutdown, replay, admin };
inline constexpr std::array<core::EnumName<FlushReason>, 8> kFlushReasonNames{{
    {FlushReason::immediate, "immediate"},
    {FlushReason::size, "size"},
    {FlushReason::time, "time"},
    {FlushReason::memory, "memory"},
    {FlushReason::age, "age"},
    {FlushReason::shutdown, "shutdown"},
    {FlushReason::replay, "replay"},
    {FlushReason::admin, "admin"},
}};
inline constexpr int kFlushReasonCount = static_cast<int>(kFlushReasonNames.size());

inline std::string_view to_string(FlushReason r) {
    return core::name_of<FlushReason>(kFlushReasonNames, r);
}

/// The rows of a batch that came from one ack: committed request, so that the
/// request hears of its own rows only.
struct WaiterRows {
    CommitWaiterPtr waiter;
    std::uint64_t first = 0;             ///< its first row in the batch, from 0
    std::uint64_t count = 0;             ///< consecutive rows from there
    std::uint64_t first_in_request = 0;  ///< which row of the request `first` is, from 0
};

/// A sealed buffer on its way to ClickHouse: NDJSON rows, one per line, and
/// what the flusher needs to send, retry and account for it. Owned by whoever
/// holds it: the flush queue, then one flusher.
struct Batch {
    std::uint64_t id = 0;
    /// Where it came from (a table's buffer): its target, settings and books.
    std::shared_ptr<BatchOwner> owner;
    std::string rows;
    std::uint64_t row_count = 0;
    TimePoint first_append{};
    TimePoint sealed_at{};
    FlushReason reason = FlushReason::size;
    int attempts = 0;          ///< attempts made so far
    int last_code = 0;         ///< ClickHouse's error code of the last failed attempt (0: none)
    std::string last_replica;  ///< the server of the last attempt, for the log
    TimePoint not_before{};    ///< retry backoff: not sent before this
    int priority = 3;          ///< copied from the table: 1 goes first
    /// The write-ahead log records holding the rows (0 when the table has no log).
    std::uint64_t first_lsn = 0;
    std::uint64_t last_lsn = 0;
    /// The LSN of the seal record that names the batch's rows (0: none). The
    /// batch is sent only once that record is on disk: after a kill -9, the
    /// replay must rebuild the batch byte for byte, or a replicated table
    /// cannot tell the same rows sent again.
    std::uint64_t seal_lsn = 0;
    /// Some rows were already refused and settled (bisection was interrupted).
    bool had_bad_rows = false;
    /// Requests whose rows were already refused and settled (bisection was
    /// interrupted, then the batch shrank to the rows left), with what they
    /// are told at the end.
    std::vector<std::pair<CommitWaiterPtr, std::string>> refused;
    /// The spool file holding the batch, once spooled (empty otherwise).
    std::filesystem::path spool_path;
    /// Requests with ack: committed waiting for this batch, and which rows are
    /// theirs: ascending by `first`, never overlapping. A request may have
    /// several entries once rows between its own have left the batch.
    std::vector<WaiterRows> waiters;
};

}  // namespace chgate::flush
