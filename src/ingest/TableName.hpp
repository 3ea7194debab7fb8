#pragma once

#include <string>
#include <string_view>

namespace chgate::ingest {

/// True for [A-Za-z_][A-Za-z0-9_]*, the only names chgate puts into SQL.
bool is_identifier(std::string_view s);

struct TableName {
    std::string database;  ///< empty: the configured clickhouse.database
    std::string table;
};

/// Parses "table" or "db.table"; both parts must be identifiers.
bool parse_table_name(std::string_view text, TableName& out);

}  // namespace chgate::ingest
