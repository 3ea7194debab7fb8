#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "core/ShardSlots.hpp"

using chgate::core::ShardSlots;

TEST_CASE("equal weights take turns: the key modulo the number of shards") {
    const std::vector<std::uint32_t> w{1, 1};
    const ShardSlots slots(w);
    CHECK(slots.total_weight() == 2);
    CHECK(slots.shard_of(0) == 0);
    CHECK(slots.shard_of(1) == 1);
    CHECK(slots.shard_of(2) == 0);
    CHECK(slots.shard_of(UINT64_MAX) == 1);  // 2^64-1 is odd
}

TEST_CASE("a shard of weight 2 takes two consecutive slots, in the order of the shards") {
    const std::vector<std::uint32_t> w{2, 1};
    const ShardSlots slots(w);
    CHECK(slots.shard_of(0) == 0);
    CHECK(slots.shard_of(1) == 0);
    CHECK(slots.shard_of(2) == 1);
    CHECK(slots.shard_of(3) == 0);
    CHECK(slots.shard_of(5) == 1);
}

TEST_CASE("a shard of weight 0 gets no rows") {
    const std::vector<std::uint32_t> w{1, 0, 1};
    const ShardSlots slots(w);
    CHECK(slots.shards() == 3);
    CHECK(slots.total_weight() == 2);
    for (std::uint64_t key = 0; key < 100; ++key)
        CHECK(slots.shard_of(key) != 1);
    CHECK(slots.shard_of(1) == 2);
    const std::vector<std::uint32_t> first_empty{0, 3};
    CHECK(ShardSlots(first_empty).shard_of(0) == 1);
}

TEST_CASE("shards with no weight at all are refused") {
    const std::vector<std::uint32_t> none;
    const std::vector<std::uint32_t> zeros{0, 0};
    CHECK_THROWS_AS(ShardSlots(none), std::invalid_argument);
    CHECK_THROWS_AS(ShardSlots(zeros), std::invalid_argument);
}
