#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "flush/Batch.hpp"

namespace chgate::batch {

using Counter = std::atomic<std::uint64_t>;

/// One table's counters, declared once. Writers add with relaxed atomics; the
/// /metrics view reads them without locks, so figures taken together may be a
/// few events apart while traffic flows.
struct TableStats {
    // Ingest.
    Counter requests_accepted{0};
    Counter rows_accepted{0};
    Counter bytes_accepted{0};
    Counter requests_rejected_full{0};  ///< 429/503 answers for this table

    // Sealing: how many batches each FlushReason produced.
    std::array<Counter, flush::kFlushReasonCount> seals{};

    // Held in memory: the open buffer, and sealed batches not yet finished.
    Counter buffered_rows{0};
    Counter buffered_bytes{0};
    Counter pending_rows{0};  ///< sealed, queued or being sent
    Counter pending_bytes{0};
    Counter rows_replayed{0};  ///< rows read back from the write-ahead log at start

    // Delivery.
    Counter batches_inserted{0};
    Counter rows_inserted{0};
    Counter bytes_inserted{0};  ///< NDJSON bytes, before compression
    Counter bytes_sent{0};      ///< request body bytes, after compression
    Counter failed_attempts{0};
    Counter batches_dropped{0};
    Counter rows_dropped{0};
    Counter rows_retried{0};          ///< rows in batches sent again after a failure
    Counter rows_dead_lettered{0};    ///< rows ClickHouse refused, kept in the dead letters
    Counter holds{0};                 ///< times the table was held
    Counter rows_spooled{0};          ///< rows moved to the spool on disk
    Counter flush_latency_ms_sum{0};  ///< over inserted batches
    Counter last_flush_latency_ms{0};
    std::atomic<std::int64_t> last_flush_unix_ms{0};  ///< 0: never
};

}  // namespace chgate::batch
