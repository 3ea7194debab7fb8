#include "core/TableName.hpp"

namespace chgate::core {

bool is_identifier(std::string_view s) {
    if (s.empty() || s.size() > 255) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!(alpha || (digit && i > 0))) return false;
    }
    return true;
}

bool parse_table_name(std::string_view text, TableName& out) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) {
        if (!is_identifier(text)) return false;
        out.database.clear();
        out.table.assign(text);
        return true;
    }
    const auto db = text.substr(0, dot);
    const auto table = text.substr(dot + 1);
    if (!is_identifier(db) || !is_identifier(table)) return false;
    out.database.assign(db);
    out.table.assign(table);
    return true;
}

}  // namespace chgate::core
