#include "clickhouse/ReplicaSet.hpp"

#include <algorithm>
#include <map>

namespace chgate::clickhouse {

Replica::Replica(const config::ClickHouseConfig& cfg, const std::string& u)
    : url(u), monitor(cfg, u), breaker(cfg.breaker_failures, cfg.breaker_cooldown) {}

ReplicaSet::ReplicaSet(std::vector<std::shared_ptr<Replica>> replicas)
    : replicas_(std::move(replicas)) {}

Topology::Topology(const config::ClickHouseConfig& cfg) : cfg_(cfg) {
    std::vector<std::shared_ptr<Replica>> unsharded;
    for (const auto& url : cfg.urls)
        unsharded.push_back(std::make_shared<Replica>(cfg_, url));
    {
        LockGuard lock(mutex_);
        servers_ = unsharded;
        unsharded_ = std::make_shared<ReplicaSet>(std::move(unsharded));
    }
    update(cfg.shards);
}

Topology::~Topology() {
    stop();
}

bool Topology::update(const std::vector<config::ShardConfig>& shards) {
    std::vector<std::shared_ptr<Replica>> stopped;
    {
        LockGuard lock(mutex_);
        if (shards.empty() || shards == current_) return false;
        std::map<std::string, std::shared_ptr<Replica>> old;
        for (const auto& r : servers_)
            old.emplace(r->url, r);
        std::map<std::string, std::shared_ptr<Replica>> used;
        std::vector<std::shared_ptr<Replica>> servers;
        std::vector<std::shared_ptr<Replica>> fresh;
        auto server = [&](const std::string& url) {
            auto& r = used[url];
            if (!r) {
                const auto it = old.find(url);
                r = it != old.end() ? it->second : std::make_shared<Replica>(cfg_, url);
                if (it == old.end()) fresh.push_back(r);
                servers.push_back(r);
            }
            return r;
        };
        auto set_of = [&](const std::vector<std::string>& urls) {
            std::vector<std::shared_ptr<Replica>> replicas;
            for (const auto& url : urls)
                replicas.push_back(server(url));
            return std::make_shared<ReplicaSet>(std::move(replicas));
        };
        if (cfg_.urls_from_cluster) {
            std::vector<std::string> all;
            for (const auto& s : shards)
                all.insert(all.end(), s.replicas.begin(), s.replicas.end());
            if (!all.empty()) unsharded_ = set_of(all);
        } else {
            unsharded_ = set_of(cfg_.urls);
        }
        std::vector<std::shared_ptr<ReplicaSet>> sets;
        for (const auto& s : shards)
            sets.push_back(set_of(s.replicas));
        // A shard the cluster no longer has keeps its replicas for the rows
        // placed on it before.
        for (std::size_t i = sets.size(); i < shards_.size(); ++i) {
            std::vector<std::string> urls;
            for (const auto& r : shards_[i]->replicas())
                urls.push_back(r->url);
            sets.push_back(set_of(urls));
        }
        for (const auto& [url, r] : old) {
            if (!used.contains(url)) stopped.push_back(r);
        }
        servers_ = std::move(servers);
        shards_ = std::move(sets);
        current_ = shards;
        // Before start(), start() probes them with the rest.
        if (started_) unprobed_.insert(unprobed_.end(), fresh.begin(), fresh.end());
    }
    // Outside the lock: a probe's stop waits for it.
    for (const auto& r : stopped)
        r->monitor.stop();
    return true;
}

void Topology::start_new_probes() {
    std::vector<std::shared_ptr<Replica>> fresh;
    {
        LockGuard lock(mutex_);
        fresh.swap(unprobed_);
    }
    // Outside the lock: a probe's first run waits for the server.
    for (const auto& r : fresh)
        r->monitor.start();
}

void Topology::start() {
    std::vector<std::shared_ptr<Replica>> servers;
    {
        LockGuard lock(mutex_);
        started_ = true;
        servers = servers_;
    }
    for (auto& r : servers)
        r->monitor.start();
}

void Topology::stop() {
    std::vector<std::shared_ptr<Replica>> servers;
    {
        LockGuard lock(mutex_);
        started_ = false;
        servers = servers_;
        unprobed_.clear();
    }
    for (auto& r : servers)
        r->monitor.stop();
}

std::shared_ptr<ReplicaSet> Topology::replicas_for(std::uint32_t shard) const {
    LockGuard lock(mutex_);
    if (shard == 0) return unsharded_;
    return shard <= shards_.size() ? shards_[shard - 1] : nullptr;
}

std::shared_ptr<const ReplicaSet> Topology::unsharded() const {
    LockGuard lock(mutex_);
    return unsharded_;
}

std::size_t Topology::shard_count() const {
    LockGuard lock(mutex_);
    return current_.size();
}

std::vector<config::ShardConfig> Topology::shards() const {
    LockGuard lock(mutex_);
    return current_;
}

std::vector<std::shared_ptr<Replica>> Topology::servers() const {
    LockGuard lock(mutex_);
    return servers_;
}

std::size_t Topology::server_count() const {
    LockGuard lock(mutex_);
    return servers_.size();
}

bool Topology::any_reachable() const {
    const auto all = servers();
    return std::any_of(all.begin(), all.end(),
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
