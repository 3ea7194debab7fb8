#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/RowBinary.hpp"
#include "schema/TableSchema.hpp"
#include "util/Mutex.hpp"

namespace chgate::schema {

class SchemaCache;

/// Each table's RowBinary encoder (insert_format: rowbinary), built from the
/// columns the schema cache holds and rebuilt when they change. Called on
/// the flusher threads.
class RowBinaryEncoders {
  public:
    /// The server's time zone (SELECT timezone()), or nullopt when no server
    /// answered. Asked at most every 10 s until one does.
    using TimeZone = std::function<std::optional<std::string>()>;

    /// `best_effort`: clickhouse.settings has date_time_input_format=best_effort.
    RowBinaryEncoders(const SchemaCache& schemas, TimeZone time_zone, bool best_effort);

    /// Encodes `rows` (NDJSON) for an INSERT into `database`.`table`, which
    /// the batch would send with `insert_query`: true with the RowBinary
    /// `query` and `body`; false when chgate cannot (the columns are not
    /// known, a type or a value it does not encode, the INSERT names its
    /// columns): then the rows go as JSONEachRow, and the reason is logged
    /// (a table's, once per schema).
    bool encode(const std::string& database, const std::string& table,
                const std::string& insert_query, bool skip_unknown_fields, std::string_view rows,
                std::string& query, std::string& body);

    /// Batches sent as RowBinary, and as JSONEachRow for want of an encoding.
    std::uint64_t encoded() const { return encoded_.load(std::memory_order_relaxed); }
    std::uint64_t fell_back() const { return fell_back_.load(std::memory_order_relaxed); }

  private:
    struct Entry {
        std::shared_ptr<const std::vector<Column>> columns;
        bool skip_unknown = false;
        bool utc = false;
        std::shared_ptr<const ingest::RowBinaryEncoder> encoder;
        std::string query;
        std::string why;  ///< why there is no encoder
    };
    bool server_utc();

    const SchemaCache& schemas_;
    const TimeZone time_zone_;
    const bool best_effort_;
    Mutex mutex_;
    std::map<std::pair<std::string, std::string>, Entry> entries_ GUARDED_BY(mutex_);
    Mutex ask_mutex_;  ///< held while time_zone_ runs
    /// -1: not known yet; 0: not UTC; 1: UTC.
    std::atomic<int> utc_{-1};
    std::atomic<std::int64_t> next_ask_{0};  ///< steady ticks
    std::atomic<std::uint64_t> encoded_{0};
    std::atomic<std::uint64_t> fell_back_{0};
};

}  // namespace chgate::schema
