#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/TableName.hpp"

namespace chgate::ingest {

/// The one statement chgate's ClickHouse-compatible endpoint takes:
/// INSERT INTO [TABLE] [db.]table [(c1, c2, …)] FORMAT JSONEachRow [rows…]
struct InsertQuery {
    core::TableName table;
    /// Sorted and unique, so that "(b, a)" and "(a,b)" share a batch. JSONEachRow
    /// matches values to columns by name, so the order carries no meaning.
    std::vector<std::string> columns;
    /// Whatever follows the format name (leading whitespace skipped): rows that
    /// came with the statement itself, as when the statement is the body's first line.
    std::string_view data;
};

/// Parses `text` case-insensitively, whatever the spacing. Identifiers may be
/// bare, `backquoted` or "double-quoted", but must be plain identifiers inside.
/// On failure returns false with a message fit for the client.
bool parse_insert_query(std::string_view text, InsertQuery& out, std::string& error);

}  // namespace chgate::ingest
