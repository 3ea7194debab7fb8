#include <catch2/catch.hpp>

#include "clickhouse/ReplicaSet.hpp"

using namespace chgate;
using namespace chgate::clickhouse;

namespace {

config::ClickHouseConfig two_shards() {
    config::ClickHouseConfig cfg;
    cfg.shards = {{1, {"http://a:8123", "http://b:8123"}}, {1, {"http://c:8123"}}};
    cfg.urls = {"http://a:8123", "http://b:8123", "http://c:8123"};
    cfg.urls_from_cluster = true;
    return cfg;
}

std::vector<std::string> urls_of(const ReplicaSet& set) {
    std::vector<std::string> out;
    for (const auto& r : set.replicas())
        out.push_back(r->url);
    return out;
}

}  // namespace

TEST_CASE("a server in several sets is one replica") {
    const Topology t(two_shards());
    CHECK(t.shard_count() == 2);
    CHECK(t.server_count() == 3);
    CHECK(t.replicas_for(1)->replicas()[0] == t.unsharded()->replicas()[0]);
    CHECK(urls_of(*t.replicas_for(2)) == std::vector<std::string>{"http://c:8123"});
    CHECK_FALSE(t.replicas_for(3));
}

TEST_CASE("new shards keep the servers that stay, and the shards gone keep theirs") {
    Topology t(two_shards());
    const auto a = t.replicas_for(1)->replicas()[0];
    const auto old_second = t.replicas_for(2);
    // Shard 1 loses b and gains d; shard 2 goes; the unsharded set follows.
    CHECK(t.update({{3, {"http://a:8123", "http://d:8123"}}}));
    CHECK_FALSE(t.update({{3, {"http://a:8123", "http://d:8123"}}}));  // no change
    CHECK_FALSE(t.update({}));                                         // never to no shards
    CHECK(t.shard_count() == 1);
    CHECK(t.shards()[0].weight == 3);
    CHECK(t.replicas_for(1)->replicas()[0] == a);  // its probe and breaker
    CHECK(urls_of(*t.replicas_for(1)) ==
          std::vector<std::string>{"http://a:8123", "http://d:8123"});
    CHECK(urls_of(*t.unsharded()) == std::vector<std::string>{"http://a:8123", "http://d:8123"});
    // Shard 2 is no longer the cluster's, but the rows placed on it go there.
    REQUIRE(t.replicas_for(2));
    CHECK(urls_of(*t.replicas_for(2)) == std::vector<std::string>{"http://c:8123"});
    CHECK(t.server_count() == 3);  // a, d, and c for shard 2's rows
    // A set held across the change is still whole.
    CHECK(urls_of(*old_second) == std::vector<std::string>{"http://c:8123"});
}

TEST_CASE("url or urls stay where tables without shard_by go when the shards change") {
    auto cfg = two_shards();
    cfg.urls = {"http://lb:8123"};
    cfg.urls_from_cluster = false;
    Topology t(cfg);
    CHECK(t.update({{1, {"http://x:8123"}}, {1, {"http://y:8123"}}}));
    CHECK(urls_of(*t.unsharded()) == std::vector<std::string>{"http://lb:8123"});
    CHECK(urls_of(*t.replicas_for(2)) == std::vector<std::string>{"http://y:8123"});
}
