#include "http/RowChecks.hpp"

#include <algorithm>

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

// The table's columns, then those being added that it does not have yet.
std::vector<ingest::CheckedColumn> checked_columns(const std::vector<schema::Column>& columns,
                                                   const std::vector<schema::NewColumn>* extra) {
    std::vector<ingest::CheckedColumn> out;
    out.reserve(columns.size() + (extra != nullptr ? extra->size() : 0));
    for (const auto& c : columns) {
        out.push_back({c.name, ingest::parse_column_type(c.type),
                       c.default_kind != "MATERIALIZED" && c.default_kind != "ALIAS"});
    }
    if (extra == nullptr) return out;
    for (const auto& c : *extra) {
        const bool known = std::any_of(columns.begin(), columns.end(),
                                       [&](const schema::Column& k) { return k.name == c.name; });
        if (!known) out.push_back({c.name, ingest::parse_column_type(c.type), true});
    }
    return out;
}

}  // namespace

RowChecks::RowChecks(const schema::SchemaCache& schemas, const config::ClickHouseConfig& clickhouse)
    : schemas_(schemas),
      best_effort_(setting(clickhouse, "date_time_input_format") == "best_effort"),
      skip_setting_(setting(clickhouse, "input_format_skip_unknown_fields")) {}

bool RowChecks::ignore_unknown(const config::TableConfig& cfg) const {
    // A table that turns new fields into columns must see them.
    if (cfg.schema_evolution == config::SchemaEvolution::add_columns) return false;
    // clickhouse.settings, sent with every INSERT, wins over the table's key.
    if (!skip_setting_.empty()) return skip_setting_ != "0";
    return cfg.unknown_fields == config::UnknownFields::ignore;
}

std::shared_ptr<const ingest::RowChecker> RowChecks::checker(const batch::Table& table,
                                                             const config::TableConfig& cfg,
                                                             Clock::time_point now) {
    const bool ignore = ignore_unknown(cfg);
    const std::uint64_t version = evolver_ != nullptr ? evolver_->version() : 0;
    {
        ReaderLock lock(mutex_);
        const auto it = entries_.find(&table);
        // The same table (not another at a reused address), looked at lately.
        if (it != entries_.end() && it->second.table == table.table() &&
            it->second.database == table.database() && now - it->second.looked < kLookEvery &&
            it->second.ignore_unknown == ignore && it->second.extra_version == version) {
            return it->second.checker;
        }
    }
    auto columns = schemas_.columns(table.database(), table.insert_table());
    auto extra =
        evolver_ != nullptr ? evolver_->extra({table.database(), table.insert_table()}) : nullptr;
    WriterLock lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    auto& e = entries_[&table];
    if (e.table != table.table() || e.database != table.database() || e.columns != columns ||
        e.ignore_unknown != ignore || e.extra != extra) {
        e.database = table.database();
        e.table = table.table();
        e.columns = columns;
        e.ignore_unknown = ignore;
        e.extra = extra;
        e.checker = columns ? std::make_shared<const ingest::RowChecker>(
                                  checked_columns(*columns, extra.get()),
                                  ingest::CheckOptions{best_effort_, ignore})
                            : nullptr;
    }
    e.extra_version = version;
    e.looked = now;
    return e.checker;
}

}  // namespace chgate::http
