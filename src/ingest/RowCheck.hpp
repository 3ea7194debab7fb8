#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ingest/ColumnType.hpp"

namespace chgate::ingest {

/// A column as the row checker sees it.
struct CheckedColumn {
    std::string name;
    ColumnType type;
    /// MATERIALIZED and ALIAS columns take no values from an INSERT.
    bool insertable = true;
};

/// How a table's rows are checked.
struct CheckOptions {
    /// date_time_input_format=best_effort: DateTime takes many text forms.
    bool date_time_best_effort = false;
    /// A field that is not a column is skipped (input_format_skip_unknown_fields)
    /// rather than refused.
    bool ignore_unknown_fields = false;
};

/// Why a row was refused, for the client's 400.
struct RowFault {
    std::size_t offset = 0;  ///< of the field's value in the row (of the field for unknown ones)
    std::string field;
    std::string expected;  ///< the column's type, "" for a field that is no column
    std::string reason;
    /// A field that is no column of the table (with its value, for schema
    /// evolution); false for every other fault.
    bool unknown = false;
    std::size_t value_offset = 0;
    std::size_t value_length = 0;
};

/// Checks JSON rows against a table's columns as ClickHouse 18.16 reads
/// JSONEachRow, but stricter where the server would store something else
/// than was sent: integers past their type's range (which the server wraps),
/// dates that are not on the calendar, Decimal digits the scale cannot hold.
/// Values of a type chgate does not know pass. Built once per schema;
/// check() is const and safe from many threads.
class RowChecker {
  public:
    RowChecker(std::vector<CheckedColumn> columns, CheckOptions options);

    /// `row` is one JSON object that scan_value accepted. `scratch` holds a
    /// decoded key or string between calls, so that rows allocate nothing
    /// once it has grown.
    std::optional<RowFault> check(std::string_view row, std::string& scratch) const;

    /// As check(), but a value that its column cannot take as sent and can
    /// take rewritten without loss (coerce_value) is rewritten. When any
    /// was, `out` holds the whole row rewritten and `coerced` is true; else
    /// `out` is left empty. A rewritten row is never longer than `row`.
    std::optional<RowFault> coerce(std::string_view row, std::string& scratch, std::string& out,
                                   bool& coerced) const;

    /// Columns whose type (or part of it) chgate does not know.
    std::size_t unchecked_columns() const { return unchecked_; }
    const std::vector<CheckedColumn>& columns() const { return columns_; }
    const CheckOptions& options() const { return options_; }

  private:
    std::optional<RowFault> walk(std::string_view row, std::string& scratch,
                                 std::string* out) const;

    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::vector<CheckedColumn> columns_;
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> by_name_;
    CheckOptions options_;
    std::size_t unchecked_ = 0;
};

/// Whether year-month-day is a day of the Gregorian calendar.
bool is_calendar_day(unsigned year, unsigned month, unsigned day);

/// Why `value` (valid JSON text) is not a value of `type`; nullptr if it is.
const char* check_value(const ColumnType& type, std::string_view value, const CheckOptions& options,
                        std::string& scratch);

/// schema: coerce. When `type` refuses `value` (check_value) but can take
/// it rewritten without loss, appends the rewritten text to `out` (never
/// longer than `value`) and returns true; else returns false and leaves
/// `out` as it was. The rewrites, and nothing else:
/// - DateTime: ISO 8601 text with a zone (Z, +hh:mm, +hhmm, +hh) becomes its
///   unix time; zone-less text loses its fraction of a second (the server
///   reads it in its own time zone, as before); a unix time with a fraction,
///   as a number or text, loses the fraction; one of 12 or 13 digits is
///   taken as milliseconds. DateTime holds whole seconds, so a fraction of a
///   second is the one thing dropped.
/// - integers: true and false become 1 and 0 (also as text), and a number
///   whose fraction is all zeros ("12.0", 12.0) becomes the integer.
/// - Decimal: a number as text ("12.34") becomes the number.
/// - Bool: "true" and "false" as text become true and false.
/// - Nullable, Array, Tuple and Map: their elements, each as above.
bool coerce_value(const ColumnType& type, std::string_view value, const CheckOptions& options,
                  std::string& scratch, std::string& out);

}  // namespace chgate::ingest
