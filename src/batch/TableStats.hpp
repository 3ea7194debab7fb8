#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "flush/Batch.hpp"

namespace chgate::batch {

using Counter = std::atomic<std::uint64_t>;

/// One table's counters, declared once: `TableStats` (V = Counter) is the
/// live set, `TableCounts` (V = uint64_t) a copy taken for /metrics. Writers
/// add with relaxed atomics; readers copy without locks, so figures taken
/// together may be a few events apart while traffic flows.
template <class V>
struct TableCounters {
    // Ingest.
    V requests_accepted{};
    V rows_accepted{};
    V bytes_accepted{};
    V requests_rejected_full{};     ///< 429/503 answers for this table
    V requests_rejected_invalid{};  ///< 400: an event does not fit the table's columns
    V rows_unchecked{};           ///< accepted under schema: check while the columns were not known
    V rows_coerced{};             ///< accepted under schema: coerce with a value rewritten
    V rows_quarantined_ingest{};  ///< refused at the door, sent to the quarantine table
    V rows_quarantined_insert{};  ///< refused by ClickHouse, sent to the quarantine table
    V columns_added{};            ///< schema_evolution: columns now on every server
    V columns_failed{};           ///< schema_evolution: columns that could not be added

    // Held in memory: the open buffer, and sealed batches not yet finished.
    V buffered_rows{};
    V buffered_bytes{};
    V pending_rows{};  ///< sealed, queued or being sent
    V pending_bytes{};
    V rows_replayed{};  ///< rows read back from the write-ahead log at start

    // Delivery.
    V batches_inserted{};
    V rows_inserted{};
    V bytes_inserted{};  ///< NDJSON bytes, before compression
    V bytes_sent{};      ///< request body bytes, after compression
    V failed_attempts{};
    V batches_dropped{};
    V rows_dropped{};
    V rows_retried{};          ///< rows in batches sent again after a failure
    V rows_dead_lettered{};    ///< rows ClickHouse refused, kept in the dead letters
    V holds{};                 ///< times the table was held
    V rows_spooled{};          ///< rows moved to the spool on disk
    V flush_latency_ms_sum{};  ///< over inserted batches
    V last_flush_latency_ms{};
    V last_flush_unix_ms{};  ///< 0: never

    // Sealing: how many batches each FlushReason produced.
    std::array<V, flush::kFlushReasonCount> seals{};
};

using TableStats = TableCounters<Counter>;
using TableCounts = TableCounters<std::uint64_t>;

/// How /metrics shows one counter: its JSON key under tables.{t} (empty: the
/// JSON derives something from it instead) and its Prometheus family,
/// chgate_<name>{table="..."} (empty: JSON only).
template <class V>
struct CounterField {
    V TableCounters<V>::*member;
    std::string_view json;
    std::string_view prometheus;
    bool gauge;  ///< a level that goes up and down, not a running total
    std::string_view help;
};

/// Every counter of TableCounters but `seals`, each once.
template <class V>
constexpr auto counter_fields() {
    using T = TableCounters<V>;
    using F = CounterField<V>;
    return std::array{
        F{&T::requests_accepted, "requests_accepted", "requests_accepted_total", false,
          "Requests accepted into the table's buffer."},
        F{&T::rows_accepted, "rows_accepted", "rows_accepted_total", false, "Events accepted."},
        F{&T::bytes_accepted, "bytes_accepted", "bytes_accepted_total", false,
          "Bytes of events accepted."},
        F{&T::requests_rejected_full, "requests_rejected_full", "requests_rejected_full_total",
          false, "Requests refused with 429 or 503 for lack of room."},
        F{&T::requests_rejected_invalid, "requests_rejected_invalid",
          "requests_rejected_invalid_total", false,
          "Requests refused with 400: an event does not fit the table's columns."},
        F{&T::rows_unchecked, "rows_unchecked", "rows_unchecked_total", false,
          "Events accepted under schema: check while the table's columns were not known."},
        F{&T::rows_coerced, "rows_coerced", "rows_coerced_total", false,
          "Events accepted under schema: coerce with a value rewritten to fit its column."},
        F{&T::rows_quarantined_ingest, "rows_quarantined_ingest", "rows_quarantined_ingest_total",
          false, "Events that did not fit the table's columns, sent to its quarantine table."},
        F{&T::rows_quarantined_insert, "rows_quarantined_insert", "rows_quarantined_insert_total",
          false, "Rows ClickHouse refused, sent to the table's quarantine table."},
        F{&T::columns_added, "columns_added", "columns_added_total", false,
          "Columns added for new fields (schema_evolution: add_columns), on every server."},
        F{&T::columns_failed, "columns_failed", "columns_failed_total", false,
          "Columns that new fields asked for and that could not be added."},
        F{&T::buffered_rows, "buffered_rows", "buffered_rows", true, "Rows in the open buffer."},
        F{&T::buffered_bytes, "buffered_bytes", "", true, "Bytes in the open buffer."},
        F{&T::pending_rows, "pending_rows", "pending_rows", true,
          "Rows in sealed batches not yet finished."},
        F{&T::pending_bytes, "pending_bytes", "", true,
          "Bytes in sealed batches not yet finished."},
        F{&T::rows_replayed, "rows_replayed", "rows_replayed_total", false,
          "Rows replayed from the write-ahead log at start."},
        F{&T::batches_inserted, "batches_inserted", "batches_inserted_total", false,
          "INSERTs ClickHouse committed."},
        F{&T::rows_inserted, "rows_inserted", "rows_inserted_total", false,
          "Rows ClickHouse committed."},
        F{&T::bytes_inserted, "bytes_inserted", "", false, "NDJSON bytes committed."},
        F{&T::bytes_sent, "bytes_sent", "bytes_sent_total", false,
          "Bytes sent to ClickHouse, after compression."},
        F{&T::failed_attempts, "failed_batches", "failed_batches_total", false,
          "INSERT attempts that failed."},
        F{&T::batches_dropped, "batches_dropped", "", false, "Batches dropped."},
        F{&T::rows_dropped, "rows_dropped", "rows_dropped_total", false,
          "Rows dropped (LogAndContinue, or abandoned at a stop)."},
        F{&T::rows_retried, "rows_retried", "rows_retried_total", false,
          "Rows of failed INSERTs that were tried again."},
        F{&T::rows_dead_lettered, "rows_dead_lettered", "rows_dead_lettered_total", false,
          "Rows ClickHouse refused, kept as dead letters."},
        F{&T::holds, "holds", "holds_total", false,
          "Times the table was held (unknown table, authentication)."},
        F{&T::rows_spooled, "rows_spooled", "rows_spooled_total", false,
          "Rows moved to the spool on disk."},
        F{&T::flush_latency_ms_sum, "", "", false, "Milliseconds of committed INSERTs."},
        F{&T::last_flush_latency_ms, "last_flush_latency_ms", "", true,
          "The last committed INSERT's milliseconds."},
        F{&T::last_flush_unix_ms, "", "", true, "When the last INSERT committed (unix ms)."},
    };
}

/// A copy of `live`, counter by counter.
inline TableCounts read_counts(const TableStats& live) {
    constexpr auto from = counter_fields<Counter>();
    constexpr auto to = counter_fields<std::uint64_t>();
    TableCounts out;
    for (std::size_t i = 0; i < from.size(); ++i)
        out.*(to[i].member) = (live.*(from[i].member)).load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < out.seals.size(); ++i)
        out.seals[i] = live.seals[i].load(std::memory_order_relaxed);
    return out;
}

}  // namespace chgate::batch
