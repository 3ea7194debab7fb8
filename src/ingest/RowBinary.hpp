#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ingest/ColumnType.hpp"

namespace chgate::ingest {

/// A column as the RowBinary encoder sees it.
struct EncodedColumn {
    std::string name;
    ColumnType type;
    /// A DEFAULT expression: an event without the field cannot be encoded
    /// (servers differ on whether JSONEachRow computes it), so its batch is
    /// sent as JSONEachRow.
    bool has_default_expression = false;
};

/// How values are read.
struct RowBinaryOptions {
    /// The server's time zone is UTC: DateTime text "YYYY-MM-DD hh:mm:ss" is
    /// encoded. Otherwise only unix times are (text reads in the server's zone).
    bool server_utc = false;
    /// Fields that are no column are skipped rather than refused.
    bool skip_unknown_fields = false;
    /// date_time_input_format=best_effort: the server reads digits as text
    /// ("1796317467") otherwise than as a unix time, so they are not encoded.
    bool date_time_best_effort = false;
};

/// Encodes checked JSON rows (NDJSON, one object a line) as ClickHouse's
/// RowBinary for an INSERT that lists the table's insertable columns. It
/// encodes a value only where it is sure of what JSONEachRow would store for
/// it on 18.16, and refuses the rest (encode() returns false): then the
/// caller sends the rows as JSONEachRow, so RowBinary never stores anything
/// else. Built once per schema; encode() is const and thread-safe.
class RowBinaryEncoder {
  public:
    /// Null, with `why`, when a column's type has no encoding here (Map,
    /// Bool, a type chgate does not know, …): the table stays on JSONEachRow.
    static std::shared_ptr<const RowBinaryEncoder> make(std::vector<EncodedColumn> columns,
                                                        RowBinaryOptions options, std::string& why);

    /// "(`a`, `b`, …)": the column list for the INSERT.
    const std::string& column_list() const { return column_list_; }

    /// Appends every row of `ndjson` to `out`. False, with `why` (and `out`
    /// in an unspecified state), for a row it does not encode.
    bool encode(std::string_view ndjson, std::string& out, std::string& why) const;

  private:
    RowBinaryEncoder() = default;
    bool encode_row(std::string_view row, std::vector<std::string_view>& values,
                    std::vector<std::size_t>& guess, std::string& out, std::string& scratch,
                    std::string& why) const;

    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::vector<EncodedColumn> columns_;
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> by_name_;
    RowBinaryOptions options_;
    std::string column_list_;
};

/// Why `type` has no RowBinary encoding here, or nullptr when it has one.
const char* unencodable(const ColumnType& type);

/// Appends `value` (valid JSON text that the column's check accepted) as
/// RowBinary of `type`. False when it is not a form this encoder is sure of.
bool encode_value(const ColumnType& type, std::string_view value, const RowBinaryOptions& options,
                  std::string& scratch, std::string& out);

/// Appends the value an absent field gets under 18.16's JSONEachRow (the
/// type's default: 0, "", NULL, [], an Enum's smallest value).
bool encode_default(const ColumnType& type, std::string& out);

}  // namespace chgate::ingest
