#include "clickhouse/ReplicaSet.hpp"

#include <algorithm>

namespace chgate::clickhouse {

Replica::Replica(const config::ClickHouseConfig& cfg, const std::string& u)
    : url(u), monitor(cfg, u), breaker(cfg.breaker_failures, cfg.breaker_cooldown) {}

ReplicaSet::ReplicaSet(const config::ClickHouseConfig& cfg) {
    for (const auto& url : cfg.urls)
        replicas_.push_back(std::make_unique<Replica>(cfg, url));
}

void ReplicaSet::start() {
    for (auto& r : replicas_)
        r->monitor.start();
}

void ReplicaSet::stop() {
    for (auto& r : replicas_)
        r->monitor.stop();
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
