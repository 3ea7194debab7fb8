#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/Config.hpp"
#include "ingest/RowCheck.hpp"
#include "schema/SchemaEvolver.hpp"
#include "schema/TableSchema.hpp"
#include "util/Mutex.hpp"

namespace chgate::batch {
class Table;
}
namespace chgate::schema {
class SchemaCache;
class SchemaEvolver;
}  // namespace chgate::schema

namespace chgate::http {

/// The row checker of each table under schema: check, built from the columns
/// the schema cache holds and rebuilt when they change (looked at once a
/// second per table). Cheap on an io thread: a map lookup under a shared lock.
class RowChecks {
  public:
    using Clock = std::chrono::steady_clock;
    /// `clickhouse`'s settings say how the server reads values
    /// (date_time_input_format, input_format_skip_unknown_fields).
    RowChecks(const schema::SchemaCache& schemas, const config::ClickHouseConfig& clickhouse);
    /// The columns being added (schema_evolution) count as columns. Set before serving.
    void set_evolver(const schema::SchemaEvolver* evolver) { evolver_ = evolver; }

    /// The checker for `table`'s rows now, with its settings `cfg`; null
    /// when the table's columns are not known (not read yet, no such table).
    std::shared_ptr<const ingest::RowChecker> checker(const batch::Table& table,
                                                      const config::TableConfig& cfg,
                                                      Clock::time_point now);

  private:
    struct Entry {
        std::string database;
        std::string table;
        std::shared_ptr<const std::vector<schema::Column>> columns;
        bool ignore_unknown = false;
        std::shared_ptr<const std::vector<schema::NewColumn>> extra;
        std::uint64_t extra_version = 0;
        std::shared_ptr<const ingest::RowChecker> checker;
        Clock::time_point looked{};
    };
    bool ignore_unknown(const config::TableConfig& cfg) const;

    const schema::SchemaCache& schemas_;
    const schema::SchemaEvolver* evolver_ = nullptr;
    const bool best_effort_;
    /// input_format_skip_unknown_fields in clickhouse.settings: "" when not set.
    const std::string skip_setting_;
    mutable SharedMutex mutex_;
    std::unordered_map<const batch::Table*, Entry> entries_ GUARDED_BY(mutex_);
};

}  // namespace chgate::http
