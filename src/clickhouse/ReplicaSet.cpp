#include "clickhouse/ReplicaSet.hpp"

#include <algorithm>
#include <map>

namespace chgate::clickhouse {

Replica::Replica(const config::ClickHouseConfig& cfg, const std::string& u)
    : url(u), monitor(cfg, u), breaker(cfg.breaker_failures, cfg.breaker_cooldown) {}

ReplicaSet::ReplicaSet(std::vector<std::shared_ptr<Replica>> replicas)
    : replicas_(std::move(replicas)) {}

Topology::Topology(const config::ClickHouseConfig& cfg) {
    std::map<std::string, std::shared_ptr<Replica>> by_url;
    auto server = [&](const std::string& url) {
        auto& r = by_url[url];
        if (!r) {
            r = std::make_shared<Replica>(cfg, url);
            servers_.push_back(r);
        }
        return r;
    };
    std::vector<std::shared_ptr<Replica>> unsharded;
    for (const auto& url : cfg.urls)
        unsharded.push_back(server(url));
    unsharded_ = std::make_unique<ReplicaSet>(std::move(unsharded));
    for (const auto& shard : cfg.shards) {
        std::vector<std::shared_ptr<Replica>> replicas;
        for (const auto& url : shard.replicas)
            replicas.push_back(server(url));
        shards_.push_back(std::make_unique<ReplicaSet>(std::move(replicas)));
    }
}

void Topology::start() {
    for (auto& r : servers_)
        r->monitor.start();
}

void Topology::stop() {
    for (auto& r : servers_)
        r->monitor.stop();
}

bool Topology::any_reachable() const {
    return std::any_of(servers_.begin(), servers_.end(),
                       [](const auto& r) { return r->monitor.reachable(); });
}

Replica* ReplicaSet::pick(CircuitBreaker::Clock::time_point now) {
    const auto n = replicas_.size();
    const auto start = next_.fetch_add(1, std::memory_order_relaxed);
    // First choice: a replica that answers its probe; then any the breaker admits.
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i < n; ++i) {
            auto& r = *replicas_[(start + i) % n];
            if (pass == 0 && !r.monitor.reachable()) continue;
            if (r.breaker.allow(now)) return &r;
        }
    }
    return nullptr;
}

void ReplicaSet::report(Replica& r, bool server_trouble, bool transport_failed,
                        const std::string& error) {
    if (server_trouble) {
        r.breaker.on_failure(CircuitBreaker::Clock::now());
        if (transport_failed) r.monitor.report_unreachable(error);
    } else {
        r.breaker.on_success();
        r.monitor.report_success();
    }
}

bool ReplicaSet::any_reachable() const {
    for (const auto& r : replicas_) {
        if (r->monitor.reachable()) return true;
    }
    return false;
}

bool ReplicaSet::lacks_distributed_sync() const {
    // Before its first probe a replica is taken for 18.16, which has the setting.
    return std::any_of(replicas_.begin(), replicas_.end(),
                       [](const auto& r) { return !r->monitor.info()->insert_distributed_sync; });
}

}  // namespace chgate::clickhouse
