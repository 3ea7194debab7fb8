#pragma once

#include <cstdint>
#include <string_view>

namespace chgate::core {

/// ClickHouse's cityHash64 of one String value: CityHash64 as of CityHash
/// 1.0.2, the version ClickHouse keeps (later CityHash releases give other
/// values). Shards rows as `Distributed(…, cityHash64(field))` does.
std::uint64_t city_hash64(std::string_view bytes);

/// ClickHouse's cityHash64 of one integer value, which is not CityHash of its
/// bytes: ClickHouse mixes integers with intHash64 instead. `bits` is the
/// value zero-extended from the column's width (an Int32 -1 is 0xFFFFFFFF).
std::uint64_t city_hash64_of_integer(std::uint64_t bits);

/// ClickHouse's intHash64 SQL function: MurmurHash3's finalizer over the
/// value xor-ed with a constant.
std::uint64_t int_hash64(std::uint64_t x);

/// CityHash's Hash128to64: two 64-bit values into one. ClickHouse combines
/// the hashes of several arguments with it.
std::uint64_t hash128_to_64(std::uint64_t low, std::uint64_t high);

}  // namespace chgate::core
