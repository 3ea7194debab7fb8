#include <catch2/catch.hpp>

#include "clickhouse/ClusterCheck.hpp"
#include "core/ShardSlots.hpp"

using namespace chgate;
using namespace chgate::clickhouse;
using Catch::Contains;

namespace {

// What ClickHouse 18.16 answered for remote_servers' chgate_weighted (the
// test cluster), cut to the part that is read.
const char* kWeighted = R"({
	"meta": [{"name": "shard_num", "type": "UInt32"}, {"name": "shard_weight", "type": "UInt32"},
		{"name": "replica_num", "type": "UInt32"}, {"name": "host_name", "type": "String"},
		{"name": "host_address", "type": "String"}, {"name": "port", "type": "UInt16"}],
	"data": [
		[1, 2, 1, "ch1.example", "10.0.0.1", 9000],
		[1, 2, 2, "ch2.example", "10.0.0.2", 9000],
		[2, 1, 1, "ch3.example", "10.0.0.3", 9000],
		[2, 1, 2, "ch4.example", "10.0.0.4", 9001]
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
    CHECK((*shards)[1].hosts[1] == DiscoveredReplica{"ch4.example", "10.0.0.4", 9001});
    CHECK_FALSE(parse_system_clusters("Code: 60. DB::Exception", error));
    CHECK_THAT(error, Contains("unexpected shape"));
    CHECK_FALSE(parse_system_clusters(R"({"data": [[1, -2, 1, "a", "b", 9000]]})", error));
    CHECK_FALSE(parse_system_clusters(R"({"data": [[1, 2, 1, "a", "b", 70000]]})", error));
    CHECK_FALSE(parse_system_clusters(R"({"data": [[1, 2, 1, "a", "b"]]})", error));
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

TEST_CASE("without listed shards, the cluster is routed by as system.clusters has it") {
    std::string error;
    const auto found = *parse_system_clusters(kWeighted, error);
    config::ClickHouseConfig cfg;
    cfg.cluster_name = "c";
    cfg.urls = {"https://seed.example:8443"};
    // Every server on the seed's scheme and port, by host_name.
    auto shards = shards_from(found, cfg, error);
    REQUIRE(shards);
    REQUIRE(shards->size() == 2);
    CHECK((*shards)[0] ==
          config::ShardConfig{2, {"https://ch1.example:8443", "https://ch2.example:8443"}});
    CHECK((*shards)[1].replicas[1] == "https://ch4.example:8443");
    // http_port for all; http_ports by TCP port, for servers sharing a host.
    cfg.http_port = 8123;
    cfg.http_ports = {{9001, 8124}};
    shards = shards_from(found, cfg, error);
    REQUIRE(shards);
    CHECK((*shards)[1].replicas ==
          std::vector<std::string>{"https://ch3.example:8123", "https://ch4.example:8124"});
    // No port in the seed: its scheme's.
    cfg = {};
    cfg.urls = {"http://seed"};
    CHECK(shards_from(found, cfg, error)->front().replicas[0] == "http://ch1.example:80");
    // IPv6 hosts are bracketed.
    auto v6 = found;
    v6[0].hosts[0].host_name = "::1";
    CHECK(shards_from(v6, cfg, error)->front().replicas[0] == "http://[::1]:80");
}

TEST_CASE("a cluster chgate cannot route by is refused, and says why") {
    std::string error;
    config::ClickHouseConfig cfg;
    cfg.cluster_name = "c";
    cfg.urls = {"http://127.0.0.1:8123"};
    // Four servers on one host, TCP ports apart: one URL each needs http_ports.
    auto one_host = *parse_system_clusters(kWeighted, error);
    for (auto& shard : one_host) {
        for (auto& h : shard.hosts)
            h.host_name = "127.0.0.1";
    }
    CHECK_FALSE(shards_from(one_host, cfg, error));
    CHECK_THAT(error, Contains("clickhouse.cluster.http_ports"));
    CHECK_THAT(error, Contains("http://127.0.0.1:8123"));
    CHECK_FALSE(shards_from({}, cfg, error));
    CHECK_THAT(error, Contains("no cluster c"));
    auto weightless = *parse_system_clusters(kWeighted, error);
    for (auto& shard : weightless)
        shard.weight = 0;
    CHECK_FALSE(shards_from(weightless, cfg, error));
    CHECK_THAT(error, Contains("weight 0"));
    std::vector<DiscoveredShard> many(core::kMaxShards + 1, DiscoveredShard{1, {}});
    CHECK_FALSE(shards_from(many, cfg, error));
    CHECK_THAT(error, Contains("at most 256"));
}
