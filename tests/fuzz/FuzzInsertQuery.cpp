// The INSERT statement parser of the ClickHouse-compatible endpoint: what it
// accepts names only identifiers, and its rows lie inside the input.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/TableName.hpp"
#include "ingest/InsertQuery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    chgate::ingest::InsertQuery q;
    std::string error;
    if (chgate::ingest::parse_insert_query(text, q, error)) {
        if (!chgate::core::is_identifier(q.table.table)) std::abort();
        if (!q.table.database.empty() && !chgate::core::is_identifier(q.table.database))
            std::abort();
        for (const auto& c : q.columns) {
            if (!chgate::core::is_identifier(c)) std::abort();
        }
        if (q.data.data() < text.data() || q.data.data() + q.data.size() > text.data() + size)
            std::abort();
    }
    chgate::core::TableName name;
    chgate::core::parse_table_name(text, name);
    return 0;
}
