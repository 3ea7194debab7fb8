#include <catch2/catch.hpp>

#include "clickhouse/ClusterCheck.hpp"

using namespace chgate;
using namespace chgate::clickhouse;
using Catch::Contains;

namespace {

// What ClickHouse 18.16 answered for remote_servers' chgate_weighted (the
// test cluster), cut to the part that is read.
const char* kWeighted = R"({
	"meta": [{"name": "shard_num", "type": "UInt32"}, {"name": "shard_weight", "type": "UInt32"},
		{"name": "replica_num", "type": "UInt32"}, {"name": "host_name", "type": "String"},
		{"name": "host_address", "type": "String"}],
	"data": [
		[1, 2, 1, "ch1.example", "10.0.0.1"],
		[1, 2, 2, "ch2.example", "10.0.0.2"],
		[2, 1, 1, "ch3.example", "10.0.0.3"],
		[2, 1, 2, "ch4.example", "10.0.0.4"]
	],
	"rows": 4
})";

std::vector<config::ShardConfig> listed(std::uint32_t w1, std::uint32_t w2) {
    return {{w1, {"http://ch1.example:8123", "https://10.0.0.2:8443"}},
            {w2, {"http://ch4.example:8123", "http://ch3.example:8123"}}};
}

}  // namespace

TEST_CASE("system.clusters is read shard by shard, with weights and hosts") {
    std::string error;
    const auto shards = parse_system_clusters(kWeighted, error);
    REQUIRE(shards);
    REQUIRE(shards->size() == 2);
    CHECK((*shards)[0].weight == 2);
    CHECK((*shards)[1].hosts[1] ==
          std::make_pair(std::string("ch4.example"), std::string("10.0.0.4")));
    CHECK_FALSE(parse_system_clusters("Code: 60. DB::Exception", error));
    CHECK_THAT(error, Contains("unexpected shape"));
    CHECK_FALSE(parse_system_clusters(R"({"data": [[1, -2, 1, "a", "b"]]})", error));
    CHECK(parse_system_clusters(R"({"data": []})", error)->empty());
    CHECK_THAT(system_clusters_query("chgate_cluster"),
               Contains("WHERE cluster = 'chgate_cluster' ORDER BY shard_num, replica_num"));
}

TEST_CASE("the shards chgate routes by are checked against system.clusters") {
    std::string error;
    const auto found = *parse_system_clusters(kWeighted, error);
    // Replicas match by host name or address, in any order.
    CHECK(compare_cluster(listed(2, 1), found).empty());
    const auto weights = compare_cluster(listed(1, 1), found);
    REQUIRE(weights.size() == 1);
    CHECK(weights[0] == "shard 1: weight 1 here, 2 in system.clusters");
    auto moved = listed(2, 1);
    std::swap(moved[0].replicas[1], moved[1].replicas[0]);
    const auto swapped = compare_cluster(moved, found);
    REQUIRE(swapped.size() == 4);
    CHECK(swapped[0] == "shard 1: replica http://ch4.example:8123 is not in system.clusters");
    CHECK(swapped[1] == "shard 1: system.clusters has replica ch2.example too");
    auto fewer = listed(2, 1);
    fewer.pop_back();
    CHECK_THAT(compare_cluster(fewer, found)[0],
               Contains("clickhouse.cluster.shards lists 1 shards, system.clusters 2"));
    CHECK(compare_cluster(listed(2, 1), {}) ==
          std::vector<std::string>{"system.clusters has no such cluster"});
}
