#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chgate::config {

/// At most this many files, of at most kMaxSqlFileSize bytes each, are applied
/// by clickhouse.create_tables.
constexpr std::size_t kMaxSqlFiles = 100;
constexpr std::size_t kMaxSqlFileSize = 1 << 20;

/// The statements of a SQL file, as deploy/apply-sql.sh splits them: lines
/// that start with "--" are comments; a statement ends with a line ending in
/// ";" (which is dropped); text after the last such line is one more.
std::vector<std::string> sql_statements(std::string_view text);

/// The files `patterns` name (paths or globs, relative to the working
/// directory), in order, each pattern's matches sorted. Empty, with `error`,
/// when a pattern matches nothing, a file cannot be read or is too large, or
/// there are too many.
std::vector<std::string> sql_files(const std::vector<std::string>& patterns, std::string& error);

}  // namespace chgate::config
