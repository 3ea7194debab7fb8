#include "ingest/InsertQuery.hpp"

#include <algorithm>

#include "util/Strings.hpp"

namespace chgate::ingest {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_word_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

class Parser {
  public:
    explicit Parser(std::string_view s) : s_(s) {}

    bool parse(InsertQuery& out, std::string& error) {
        skip_space();
        if (!keyword("INSERT")) {
            error = "only INSERT INTO … FORMAT JSONEachRow is accepted; chgate is not a SQL proxy";
            return false;
        }
        if (!keyword("INTO")) return expected("INTO after INSERT", error);
        keyword("TABLE");  // optional, as in ClickHouse
        if (!table_name(out.table, error)) return false;
        out.columns.clear();
        skip_space();
        if (peek('(') && !column_list(out.columns, error)) return false;
        if (keyword("VALUES") || keyword("SELECT") || keyword("SETTINGS")) {
            error =
                "only FORMAT JSONEachRow is accepted after the table (no VALUES, SELECT or "
                "SETTINGS)";
            return false;
        }
        if (!format_clause(error)) return false;
        skip_space();
        out.data = s_.substr(i_);
        return true;
    }

  private:
    // [db.]table
    bool table_name(core::TableName& table, std::string& error) {
        std::string first, second;
        if (!identifier(first)) return expected("a table name after INSERT INTO", error);
        if (!peek('.')) {
            table.database.clear();
            table.table = first;
            return true;
        }
        ++i_;
        // The table name follows the dot directly: "db. FORMAT" names no table.
        if (i_ >= s_.size() || is_space(s_[i_]) || !identifier(second)) {
            return expected("a table name after the database", error);
        }
        table.database = first;
        table.table = second;
        return true;
    }

    // (a, b, c): sorted, each at most once, at most kMaxColumns.
    bool column_list(std::vector<std::string>& columns, std::string& error) {
        ++i_;  // (
        for (;;) {
            std::string column;
            if (!identifier(column)) return expected("a column name", error);
            if (columns.size() == core::kMaxColumns) {
                error = "more than " + std::to_string(core::kMaxColumns) +
                        " columns in the column list";
                return false;
            }
            columns.push_back(column);
            skip_space();
            if (peek(',')) {
                ++i_;
                continue;
            }
            if (peek(')')) {
                ++i_;
                break;
            }
            return expected(", or ) in the column list", error);
        }
        std::sort(columns.begin(), columns.end());
        const auto dup = std::adjacent_find(columns.begin(), columns.end());
        if (dup != columns.end()) {
            error = "column " + *dup + " is listed twice";
            return false;
        }
        return true;
    }

    // FORMAT JSONEachRow (or its other names), then whitespace or the rows.
    bool format_clause(std::string& error) {
        if (!keyword("FORMAT")) return expected("FORMAT JSONEachRow", error);
        skip_space();
        const auto start = i_;
        while (i_ < s_.size() && is_word_char(s_[i_]))
            ++i_;
        const auto format = s_.substr(start, i_ - start);
        if (!iequals(format, "JSONEachRow") && !iequals(format, "JSONLines") &&
            !iequals(format, "NDJSON")) {
            error = "format \"" + std::string(format) +
                    "\" is not supported; chgate takes FORMAT JSONEachRow";
            return false;
        }
        if (i_ < s_.size() && !is_space(s_[i_]) && s_[i_] != '{') {
            return expected("whitespace or rows after FORMAT JSONEachRow", error);
        }
        return true;
    }

    bool expected(const std::string& what, std::string& error) {
        error = "expected " + what + " at byte " + std::to_string(i_) + " of the query";
        return false;
    }

    void skip_space() {
        while (i_ < s_.size() && is_space(s_[i_]))
            ++i_;
    }

    bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }

    // Consumes a whole word equal to `word`, ignoring case.
    bool keyword(std::string_view word) {
        skip_space();
        if (s_.size() - i_ < word.size()) return false;
        if (!iequals(s_.substr(i_, word.size()), word)) return false;
        if (i_ + word.size() < s_.size() && is_word_char(s_[i_ + word.size()])) return false;
        i_ += word.size();
        return true;
    }

    bool identifier(std::string& out) {
        skip_space();
        if (i_ >= s_.size()) return false;
        const char quote = s_[i_];
        if (quote == '`' || quote == '"') {
            const auto close = s_.find(quote, i_ + 1);
            if (close == std::string_view::npos) return false;
            out.assign(s_.substr(i_ + 1, close - i_ - 1));
            i_ = close + 1;
        } else {
            const auto start = i_;
            while (i_ < s_.size() && is_word_char(s_[i_]))
                ++i_;
            out.assign(s_.substr(start, i_ - start));
        }
        return core::is_identifier(out);
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

bool parse_insert_query(std::string_view text, InsertQuery& out, std::string& error) {
    return Parser(text).parse(out, error);
}

}  // namespace chgate::ingest
