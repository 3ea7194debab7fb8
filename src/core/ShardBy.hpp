#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chgate::core {

/// How a table's rows pick their shard (`shard_by` in its config), in the
/// forms of a Distributed table's sharding key that chgate computes exactly
/// as ClickHouse does.
struct ShardBy {
    enum class Kind {
        random,     ///< rand(): any shard, in proportion to the weights
        city_hash,  ///< cityHash64(field)
        integer,    ///< field: a non-negative integer, used as it is
    };
    Kind kind = Kind::random;
    std::string field;  ///< the top-level field, for city_hash and integer

    bool operator==(const ShardBy&) const = default;
};

/// Parses "rand()", "cityHash64(field)" or "field" (spaces allowed around
/// names and parentheses; field is an identifier, optionally in backquotes).
/// On failure, nullopt, with the reason in `error`.
std::optional<ShardBy> parse_shard_by(std::string_view text, std::string& error);

/// The expression again, in the canonical form parse_shard_by takes.
std::string to_string(const ShardBy& by);

}  // namespace chgate::core
