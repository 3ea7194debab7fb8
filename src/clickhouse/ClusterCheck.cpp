#include "clickhouse/ClusterCheck.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "clickhouse/HttpClient.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "core/ShardSlots.hpp"
#include "util/Log.hpp"

namespace chgate::clickhouse {

std::string system_clusters_query(const std::string& name) {
    return "SELECT shard_num, shard_weight, replica_num, host_name, host_address, port "
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
            const auto port = number(row.at(5));
            if (port > 65535) throw std::runtime_error("not a port: " + row.at(5).dump());
            shard.hosts.push_back({row.at(3).get<std::string>(), row.at(4).get<std::string>(),
                                   static_cast<std::uint16_t>(port)});
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
// "user@host:port" of "http://user@host:port/path".
std::string_view url_authority(std::string_view url) {
    if (const auto scheme = url.find("://"); scheme != std::string_view::npos)
        url.remove_prefix(scheme + 3);
    url = url.substr(0, url.find('/'));
    if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
    return url;
}

// Where the port starts in an authority ("host:port", "[::1]:port"); npos: none.
std::size_t port_colon(std::string_view authority) {
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) return colon;
    const auto bracket = authority.rfind(']');
    return bracket != std::string_view::npos && bracket > colon ? std::string_view::npos : colon;
}

// The host of "http://user@host:port/path" ("[::1]" for IPv6, without brackets).
std::string url_host(const std::string& url) {
    auto rest = url_authority(url);
    if (rest.starts_with('[')) return std::string(rest.substr(1, rest.find(']') - 1));
    return std::string(rest.substr(0, port_colon(rest)));
}

// The port a URL names, or its scheme's.
std::uint32_t url_port(const std::string& url) {
    const auto authority = url_authority(url);
    const auto colon = port_colon(authority);
    if (colon != std::string_view::npos) {
        std::uint32_t port = 0;
        const auto digits = authority.substr(colon + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec == std::errc{} && end == digits.data() + digits.size()) return port;
    }
    return url.starts_with("https://") ? 443 : 80;
}
}  // namespace

std::optional<std::vector<config::ShardConfig>> shards_from(
    const std::vector<DiscoveredShard>& discovered, const config::ClickHouseConfig& cfg,
    std::string& error) {
    if (discovered.empty()) {
        error = "system.clusters has no cluster " + cfg.cluster_name;
        return std::nullopt;
    }
    if (discovered.size() > core::kMaxShards) {
        error = "system.clusters lists " + std::to_string(discovered.size()) +
                " shards; chgate takes at most " + std::to_string(core::kMaxShards);
        return std::nullopt;
    }
    const auto& seed = cfg.urls.front();
    const auto scheme = seed.substr(0, seed.find("://") + 3);
    const auto default_port = cfg.http_port != 0 ? cfg.http_port : url_port(seed);
    std::vector<config::ShardConfig> out;
    std::set<std::string> seen;
    std::uint64_t total = 0;
    for (const auto& d : discovered) {
        config::ShardConfig shard{d.weight, {}};
        total += d.weight;
        for (const auto& h : d.hosts) {
            const auto mapped = cfg.http_ports.find(h.port);
            const auto port = mapped != cfg.http_ports.end() ? mapped->second : default_port;
            const bool v6 = h.host_name.find(':') != std::string::npos;
            auto url =
                scheme + (v6 ? "[" + h.host_name + "]" : h.host_name) + ":" + std::to_string(port);
            if (!seen.insert(url).second) {
                error = "system.clusters lists two servers that would both be " + url +
                        " (TCP port " + std::to_string(h.port) +
                        "); give each TCP port its HTTP port in clickhouse.cluster.http_ports";
                return std::nullopt;
            }
            shard.replicas.push_back(std::move(url));
        }
        out.push_back(std::move(shard));
    }
    if (total == 0) {
        error = "every shard of cluster " + cfg.cluster_name + " has weight 0";
        return std::nullopt;
    }
    return out;
}

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
                return h.host_name == host || h.host_address == host;
            });
            if (it == left.end()) {
                out.push_back(shard + "replica " + url + " is not in system.clusters");
            } else {
                left.erase(it);
            }
        }
        for (const auto& h : left)
            out.push_back(shard + "system.clusters has replica " + h.host_name + " too");
    }
    return out;
}

ClusterCheck::ClusterCheck(config::ClickHouseConfig cfg, const Topology& topology, Apply apply)
    : cfg_(std::move(cfg)), topology_(topology), apply_(std::move(apply)) {}

void ClusterCheck::start() {
    using Clock = PeriodicTask::TimePoint::clock;
    // Without listed shards, sharded tables wait for the first answer: ask
    // now. With them, the check runs on the task's thread: a server that does
    // not answer must not hold up the start.
    auto first = Clock::now();
    if (cfg_.shards.empty()) first += check() ? std::chrono::minutes(1) : std::chrono::seconds(5);
    task_.start(
        "chgate-cluster",
        [this](bool last) {
            if (last) return Clock::now();
            // Until a server answers, ask again soon.
            return Clock::now() + (check() ? std::chrono::seconds(60) : std::chrono::seconds(5));
        },
        first);
}

void ClusterCheck::refresh() {
    task_.wake_by(PeriodicTask::TimePoint::clock::now());
}

ClusterCheck::State ClusterCheck::state() const {
    LockGuard lock(mutex_);
    return state_;
}

bool ClusterCheck::check() {
    const bool route_by_it = cfg_.shards.empty();
    // At start, a few seconds a server: the first answer is waited for.
    HttpClient client({cfg_.user, cfg_.password},
                      std::min<config::Duration>(cfg_.timeout, std::chrono::seconds(5)), cfg_.tls);
    State next;
    next.at = std::chrono::system_clock::now();
    std::optional<std::vector<config::ShardConfig>> found;
    for (const auto& server : topology_.servers()) {
        // About 100 bytes a replica: room for thousands.
        const auto r = client.query(server->url, system_clusters_query(cfg_.cluster_name), 4 << 20);
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
        if (route_by_it) {
            found = shards_from(*discovered, cfg_, next.error);
            if (!found) next.differences = {next.error};
        } else {
            next.differences = compare_cluster(topology_.shards(), *discovered);
        }
        break;
    }
    // Applied before the state says so, and outside the lock (it opens probes).
    const bool changed = found && found != topology_.shards();
    if (changed) apply_(*found);
    LockGuard lock(mutex_);
    if (route_by_it && next.checked) {
        if (found && (changed || !state_.checked)) {
            LOG_INFO << "clickhouse.cluster: routing by cluster " << cfg_.cluster_name
                     << " as system.clusters on " << next.server << " has it: " << found->size()
                     << " shards";
        } else if (!found && next.differences != state_.differences) {
            LOG_ERROR << "clickhouse.cluster: cannot route by cluster " << cfg_.cluster_name
                      << " as system.clusters on " << next.server << " has it: " << next.error
                      << "; the shards stay as they were";
        }
    } else if (next.checked && (!state_.checked || next.differences != state_.differences)) {
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
                         "table puts them; correct the list and reload";
        }
    }
    if (!next.checked && !next.error.empty()) {
        LOG_WARN << "clickhouse.cluster: cannot read system.clusters from any server: "
                 << next.error;
        // Keep what the last check found; say why this one did not run.
        state_.error = next.error;
        state_.at = next.at;
        return false;
    }
    state_ = std::move(next);
    return state_.checked;
}

}  // namespace chgate::clickhouse
