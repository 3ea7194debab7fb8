#include "http/RowChecks.hpp"

#include "batch/Table.hpp"
#include "schema/SchemaCache.hpp"

namespace chgate::http {
namespace {

// How often a table's checker looks for new columns.
constexpr std::chrono::seconds kLookEvery{1};
// Entries kept before the map starts over (tables come and go).
constexpr std::size_t kMaxEntries = 100'000;

std::string setting(const config::ClickHouseConfig& c, const std::string& name) {
    const auto it = c.settings.find(name);
    return it == c.settings.end() ? std::string() : it->second;
}

std::vector<ingest::CheckedColumn> checked_columns(const std::vector<schema::Column>& columns) {
    std::vector<ingest::CheckedColumn> out;
    out.reserve(columns.size());
    for (const auto& c : columns) {
        out.push_back({c.name, ingest::parse_column_type(c.type),
                       c.default_kind != "MATERIALIZED" && c.default_kind != "ALIAS"});
    }
    return out;
}

}  // namespace

RowChecks::RowChecks(const schema::SchemaCache& schemas, const config::ClickHouseConfig& clickhouse)
    : schemas_(schemas),
      best_effort_(setting(clickhouse, "date_time_input_format") == "best_effort"),
      skip_setting_(setting(clickhouse, "input_format_skip_unknown_fields")) {}

bool RowChecks::ignore_unknown(const config::TableConfig& cfg) const {
    // clickhouse.settings, sent with every INSERT, wins over the table's key.
    if (!skip_setting_.empty()) return skip_setting_ != "0";
    return cfg.unknown_fields == config::UnknownFields::ignore;
}

std::shared_ptr<const ingest::RowChecker> RowChecks::checker(const batch::Table& table,
                                                             const config::TableConfig& cfg,
                                                             Clock::time_point now) {
    const bool ignore = ignore_unknown(cfg);
    {
        ReaderLock lock(mutex_);
        const auto it = entries_.find(&table);
        // The same table (not another at a reused address), looked at lately.
        if (it != entries_.end() && it->second.table == table.table() &&
            it->second.database == table.database() && now - it->second.looked < kLookEvery &&
            it->second.ignore_unknown == ignore) {
            return it->second.checker;
        }
    }
    auto columns = schemas_.columns(table.database(), table.insert_table());
    WriterLock lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    auto& e = entries_[&table];
    if (e.table != table.table() || e.database != table.database() || e.columns != columns ||
        e.ignore_unknown != ignore) {
        e.database = table.database();
        e.table = table.table();
        e.columns = columns;
        e.ignore_unknown = ignore;
        e.checker = columns
                        ? std::make_shared<const ingest::RowChecker>(
                              checked_columns(*columns), ingest::CheckOptions{best_effort_, ignore})
                        : nullptr;
    }
    e.looked = now;
    return e.checker;
}

}  // namespace chgate::http
