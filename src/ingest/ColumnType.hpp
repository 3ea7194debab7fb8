#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chgate::ingest {

/// A ClickHouse column type, as far as chgate checks values of it.
struct ColumnType {
    enum class Kind {
        signed_int,    ///< Int8..Int64: `bits`
        unsigned_int,  ///< UInt8..UInt64: `bits`
        float32,
        float64,
        decimal,  ///< Decimal(P, S), Decimal32/64/128(S): `precision`, `scale`
        string,
        fixed_string,  ///< FixedString(N): `size` bytes at most
        date,
        date_time,  ///< DateTime, DateTime('zone'): the zone in names[0]
        uuid,
        enumeration,  ///< Enum8/Enum16: `names`, their `values`, `bits`
        boolean,      ///< Bool (newer servers)
        nullable,     ///< Nullable(T): args[0]
        array,        ///< Array(T): args[0]
        tuple,        ///< Tuple(T1, ...): args
        map,          ///< Map(K, V): args[0], args[1]
        nothing,      ///< Nothing: only null (Nullable(Nothing), Array(Nothing))
        unknown,      ///< anything else: its values are not checked
    };
    Kind kind = Kind::unknown;
    unsigned bits = 0;
    unsigned precision = 0;
    unsigned scale = 0;
    std::uint64_t size = 0;
    std::vector<std::string> names;
    /// An Enum's values, in the order of `names` (empty when the type text
    /// gave none).
    std::vector<std::int64_t> values;
    std::vector<ColumnType> args;

    /// Whether every value of the type (and of its parts) is checked.
    bool fully_known() const;
};

/// Parses a type as system.columns spells it ("Nullable(Decimal(9, 2))").
/// LowCardinality(T) is T. A type chgate does not know, or text it cannot
/// parse, is Kind::unknown: never an error.
ColumnType parse_column_type(std::string_view text);

/// The type as ClickHouse would spell it, for messages ("Array(Int32)").
std::string to_string(const ColumnType& t);

}  // namespace chgate::ingest
