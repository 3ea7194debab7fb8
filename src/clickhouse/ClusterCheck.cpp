#include "clickhouse/ClusterCheck.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "clickhouse/HttpClient.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "util/Log.hpp"

namespace chgate::clickhouse {

std::string system_clusters_query(const std::string& name) {
    return "SELECT shard_num, shard_weight, replica_num, host_name, host_address "
           "FROM system.clusters WHERE cluster = '" +
           name + "' ORDER BY shard_num, replica_num FORMAT JSONCompact";
}

std::optional<std::vector<DiscoveredShard>> parse_system_clusters(std::string_view json,
                                                                  std::string& error) {
    std::map<std::uint64_t, DiscoveredShard> by_number;
    try {
        const auto j = nlohmann::json::parse(json);
        // get<unsigned> would wrap a -2: each number must be one.
        auto number = [](const nlohmann::json& v) {
            if (!v.is_number_unsigned() || v.get<std::uint64_t>() > UINT32_MAX)
                throw std::runtime_error("not a UInt32: " + v.dump());
            return v.get<std::uint32_t>();
        };
        for (const auto& row : j.at("data")) {
            auto& shard = by_number[number(row.at(0))];
            shard.weight = number(row.at(1));
            shard.hosts.emplace_back(row.at(3).get<std::string>(), row.at(4).get<std::string>());
        }
    } catch (const std::exception& e) {
        error = std::string("system.clusters answered in an unexpected shape: ") + e.what();
        return std::nullopt;
    }
    std::vector<DiscoveredShard> out;
    for (auto& [number, shard] : by_number)
        out.push_back(std::move(shard));
    return out;
}

namespace {
// The host of "http://user@host:port/path" ("[::1]" for IPv6, without brackets).
std::string url_host(const std::string& url) {
    auto rest = std::string_view(url);
    if (const auto scheme = rest.find("://"); scheme != std::string_view::npos)
        rest.remove_prefix(scheme + 3);
    rest = rest.substr(0, rest.find('/'));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    if (rest.starts_with('[')) return std::string(rest.substr(1, rest.find(']') - 1));
    return std::string(rest.substr(0, rest.rfind(':')));
}
}  // namespace

std::vector<std::string> compare_cluster(const std::vector<config::ShardConfig>& configured,
                                         const std::vector<DiscoveredShard>& discovered) {
    std::vector<std::string> out;
    if (discovered.empty()) return {"system.clusters has no such cluster"};
    if (configured.size() != discovered.size()) {
        out.push_back("clickhouse.cluster.shards lists " + std::to_string(configured.size()) +
                      " shards, system.clusters " + std::to_string(discovered.size()));
    }
    for (std::size_t i = 0; i < std::min(configured.size(), discovered.size()); ++i) {
        const auto& c = configured[i];
        const auto& d = discovered[i];
        const auto shard = "shard " + std::to_string(i + 1) + ": ";
        if (c.weight != d.weight) {
            out.push_back(shard + "weight " + std::to_string(c.weight) + " here, " +
                          std::to_string(d.weight) + " in system.clusters");
        }
        // Replicas by host, in any order: each configured one takes a match.
        auto left = d.hosts;
        for (const auto& url : c.replicas) {
            const auto host = url_host(url);
            const auto it = std::find_if(left.begin(), left.end(), [&](const auto& h) {
                return h.first == host || h.second == host;
            });
            if (it == left.end()) {
                out.push_back(shard + "replica " + url + " is not in system.clusters");
            } else {
                left.erase(it);
            }
        }
        for (const auto& [name, address] : left)
            out.push_back(shard + "system.clusters has replica " + name + " too");
    }
    return out;
}

ClusterCheck::ClusterCheck(config::ClickHouseConfig cfg, const Topology& topology)
    : cfg_(std::move(cfg)), topology_(topology) {}

void ClusterCheck::start() {
    // The first check at once, on the task's thread: a server that does not
    // answer must not hold up the start.
    task_.start(
        "chgate-cluster",
        [this](bool last) {
            if (!last) check();
            return PeriodicTask::TimePoint::clock::now() + std::chrono::minutes(1);
        },
        PeriodicTask::TimePoint::clock::now());
}

ClusterCheck::State ClusterCheck::state() const {
    LockGuard lock(mutex_);
    return state_;
}

void ClusterCheck::check() {
    HttpClient client({cfg_.user, cfg_.password}, cfg_.timeout, cfg_.tls);
    State next;
    next.at = std::chrono::system_clock::now();
    for (const auto& server : topology_.servers()) {
        const auto r = client.query(server->url, system_clusters_query(cfg_.cluster_name));
        if (!r.transport_ok || r.status != 200) {
            next.error = server->url + ": " +
                         (r.transport_ok ? "HTTP " + std::to_string(r.status) : r.transport_error);
            continue;
        }
        const auto discovered = parse_system_clusters(r.body, next.error);
        if (!discovered) continue;
        next.checked = true;
        next.error.clear();
        next.server = server->url;
        next.differences = compare_cluster(cfg_.shards, *discovered);
        break;
    }
    LockGuard lock(mutex_);
    if (next.checked && (!state_.checked || next.differences != state_.differences)) {
        if (next.differences.empty()) {
            LOG_INFO << "clickhouse.cluster: the shards match cluster " << cfg_.cluster_name
                     << " in system.clusters on " << next.server;
        } else {
            std::string all;
            for (const auto& d : next.differences)
                all += (all.empty() ? "" : "; ") + d;
            LOG_ERROR << "clickhouse.cluster: the shards differ from cluster " << cfg_.cluster_name
                      << " in system.clusters on " << next.server << ": " << all
                      << "; rows with shard_by may land on other shards than the Distributed "
                         "table puts them; correct the list and restart";
        }
    }
    if (!next.checked && !next.error.empty()) {
        LOG_WARN << "clickhouse.cluster: cannot read system.clusters from any server: "
                 << next.error;
        // Keep what the last check found; say why this one did not run.
        state_.error = next.error;
        state_.at = next.at;
        return;
    }
    state_ = std::move(next);
}

}  // namespace chgate::clickhouse
