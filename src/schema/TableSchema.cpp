#include "schema/TableSchema.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace chgate::schema {

std::string system_columns_query(const std::string& database, const std::string& table) {
    return "SELECT name, type, default_kind FROM system.columns WHERE database = '" + database +
           "' AND table = '" + table + "' FORMAT JSONCompact";
}

std::optional<std::vector<Column>> parse_system_columns(std::string_view json, std::string& error) {
    std::vector<Column> out;
    try {
        const auto j = nlohmann::json::parse(json);
        const auto& data = j.at("data");
        if (data.size() > kMaxColumns) {
            error = "the table has " + std::to_string(data.size()) +
                    " columns; chgate reads at most " + std::to_string(kMaxColumns);
            return std::nullopt;
        }
        for (const auto& row : data) {
            out.push_back({row.at(0).get<std::string>(), row.at(1).get<std::string>(),
                           row.at(2).get<std::string>()});
        }
    } catch (const std::exception& e) {
        error = std::string("system.columns answered in an unexpected shape: ") + e.what();
        return std::nullopt;
    }
    return out;
}

}  // namespace chgate::schema
