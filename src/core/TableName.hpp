#pragma once

#include <string>
#include <string_view>

namespace chgate::core {

/// True for [A-Za-z_][A-Za-z0-9_]* of at most 255 characters, the only names
/// chgate puts into SQL.
bool is_identifier(std::string_view s);

/// A database and table name together are at most this long, so that every
/// file name chgate builds from them (storage.dir/wal/db.table~hash, the
/// spool's and dead letters' directories, their .taken- copies) stays under
/// the filesystem's 255-byte limit.
inline constexpr std::size_t kMaxQualifiedNameLength = 200;

/// True when `database`.`table` fits kMaxQualifiedNameLength.
inline bool fits_name_limit(std::string_view database, std::string_view table) {
    return database.size() + table.size() <= kMaxQualifiedNameLength;
}

/// At most this many columns in an INSERT's column list.
inline constexpr std::size_t kMaxColumns = 1000;

struct TableName {
    std::string database;  ///< empty: the configured clickhouse.database
    std::string table;
};

/// Parses "table" or "db.table"; both parts must be identifiers.
bool parse_table_name(std::string_view text, TableName& out);

}  // namespace chgate::core
