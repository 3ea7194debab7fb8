#include "core/ShardBy.hpp"

#include "core/TableName.hpp"
#include "util/Strings.hpp"

namespace chgate::core {
namespace {

// A field name, bare or in backquotes.
std::optional<std::string> field_name(std::string_view s) {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
    if (!is_identifier(s)) return std::nullopt;
    return std::string(s);
}

}  // namespace

std::optional<ShardBy> parse_shard_by(std::string_view text, std::string& error) {
    const auto expr = trim(text);
    const auto open = expr.find('(');
    if (open == std::string_view::npos) {
        if (auto field = field_name(expr)) return ShardBy{ShardBy::Kind::integer, *field};
    } else if (expr.back() == ')') {
        const auto function = trim(expr.substr(0, open));
        const auto argument = trim(expr.substr(open + 1, expr.size() - open - 2));
        if (function == "rand" && argument.empty()) return ShardBy{ShardBy::Kind::random, {}};
        if (function == "cityHash64") {
            if (auto field = field_name(argument)) return ShardBy{ShardBy::Kind::city_hash, *field};
        }
    }
    constexpr std::string_view kWhy =
        "\" is not a sharding key chgate computes as ClickHouse does: use rand(), "
        "cityHash64(field) or field (a top-level field of the events)";
    error.clear();
    error.reserve(1 + text.size() + kWhy.size());
    error.push_back('"');
    error.append(text);
    error.append(kWhy);
    return std::nullopt;
}

std::string to_string(const ShardBy& by) {
    switch (by.kind) {
        case ShardBy::Kind::random:
            return "rand()";
        case ShardBy::Kind::city_hash:
            return "cityHash64(" + by.field + ")";
        case ShardBy::Kind::integer:
            return by.field;
    }
    return {};
}

}  // namespace chgate::core
