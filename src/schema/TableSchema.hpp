#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chgate::schema {

/// One column as system.columns describes it.
struct Column {
    std::string name;
    std::string type;          ///< as ClickHouse spells it: "Nullable(String)"
    std::string default_kind;  ///< "", DEFAULT, MATERIALIZED or ALIAS
    bool operator==(const Column&) const = default;
};

/// At most this many columns are read for a table: a wider one is refused
/// (and its rows go unchecked), so that one table cannot take the memory.
constexpr std::size_t kMaxColumns = 10000;

/// The SQL that reads `database`.`table`'s columns, in the table's order.
/// Both names must be identifiers (core::is_identifier): they are quoted, not escaped.
std::string system_columns_query(const std::string& database, const std::string& table);

/// Parses that query's JSONCompact answer. An empty list: no such table.
/// nullopt, with `error`, for an answer of another shape or over kMaxColumns.
std::optional<std::vector<Column>> parse_system_columns(std::string_view json, std::string& error);

}  // namespace chgate::schema
