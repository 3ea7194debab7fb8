#include <catch2/catch.hpp>

#include <string>

#include "core/ShardBy.hpp"

using chgate::core::parse_shard_by;
using chgate::core::ShardBy;
using Kind = ShardBy::Kind;

TEST_CASE("the three sharding keys chgate computes exactly parse, spaces and backquotes allowed") {
    std::string error;
    CHECK(parse_shard_by("rand()", error) == ShardBy{Kind::random, {}});
    CHECK(parse_shard_by(" rand ( ) ", error) == ShardBy{Kind::random, {}});
    CHECK(parse_shard_by("cityHash64(user_id)", error) == ShardBy{Kind::city_hash, "user_id"});
    CHECK(parse_shard_by("cityHash64( `user_id` )", error) == ShardBy{Kind::city_hash, "user_id"});
    CHECK(parse_shard_by("user_id", error) == ShardBy{Kind::integer, "user_id"});
    CHECK(parse_shard_by("`n`", error) == ShardBy{Kind::integer, "n"});
    CHECK(to_string(ShardBy{Kind::city_hash, "k"}) == "cityHash64(k)");
}

TEST_CASE("any other expression is refused, with the forms that work") {
    for (const char* bad :
         {"", "cityHash64()", "cityHash64(a, b)", "sipHash64(k)", "rand(1)", "intHash64(k)",
          "k % 2", "a.b", "cityHash64(user_id", "`x", "toUInt64(k)"}) {
        INFO(bad);
        std::string error;
        CHECK_FALSE(parse_shard_by(bad, error));
        CHECK_THAT(error, Catch::Contains("use rand(), cityHash64(field) or field"));
    }
}
