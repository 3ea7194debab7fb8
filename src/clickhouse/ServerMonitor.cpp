#include "clickhouse/ServerMonitor.hpp"

#include <set>
#include <sstream>

#include "clickhouse/Compressor.hpp"
#include "clickhouse/ErrorClassifier.hpp"
#include "clickhouse/HttpClient.hpp"
#include "util/Log.hpp"

namespace chgate::clickhouse {
namespace {

// HTTP-interface parameters that are not in system.settings but are valid in the URL.
const std::set<std::string> kHttpParameters = {"wait_end_of_query", "buffer_size",
                                               "session_timeout", "default_format"};

std::string describe_failure(const HttpResponse& r) {
    if (!r.transport_ok) return r.transport_error;
    const auto outcome = classify(r);
    if (outcome.error_class == ErrorClass::none) return "HTTP " + std::to_string(r.status);
    return outcome.message;
}

std::chrono::milliseconds probe_timeout_for(const config::ClickHouseConfig& c) {
    return std::min<std::chrono::milliseconds>(c.timeout, std::chrono::seconds(5));
}

bool answered_one(const HttpResponse& r) {
    return r.transport_ok && r.status == 200 && !r.exception_code && r.body.starts_with("1");
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.pop_back();
    return s;
}

}  // namespace

ServerMonitor::ServerMonitor(config::ClickHouseConfig cfg, std::string url)
    : cfg_(std::move(cfg)), url_(std::move(url)) {
    // Until a probe says otherwise, send the operator's settings as configured:
    // leaving them out could change how rows parse.
    auto info = std::make_shared<ServerInfo>();
    info->settings = cfg_.settings;
    info_ = std::move(info);
}

ServerMonitor::~ServerMonitor() {
    stop();
}

void ServerMonitor::start() {
    {
        HttpClient client({cfg_.user, cfg_.password}, probe_timeout_for(cfg_), cfg_.tls);
        probe_once(client);
    }
    if (!reachable()) {
        LOG_WARN << log::replica(url_) << "ClickHouse at " << url_ << " is not answering ("
                 << last_error()
                 << "); accepting events anyway, and they will be sent when it is back";
    }
    client_ = std::make_unique<HttpClient>(HttpClient::Credentials{cfg_.user, cfg_.password},
                                           probe_timeout_for(cfg_), cfg_.tls);
    const auto next = [this] { return std::chrono::steady_clock::now() + cfg_.probe_interval; };
    task_.start(
        "chgate-monitor",
        [this, next](bool last) {
            if (!last) probe_once(*client_);
            return next();
        },
        next());
}

void ServerMonitor::stop() {
    task_.stop();
}

std::shared_ptr<const ServerInfo> ServerMonitor::info() const {
    LockGuard lock(mutex_);
    return info_;
}

std::string ServerMonitor::last_error() const {
    LockGuard lock(mutex_);
    return last_error_;
}

void ServerMonitor::report_success() {
    if (!reachable_.load(std::memory_order_relaxed)) set_state(true, "");
}

void ServerMonitor::report_unreachable(const std::string& error) {
    set_state(false, error);
}

void ServerMonitor::set_state(bool reachable, const std::string& error) {
    const bool was = reachable_.exchange(reachable);
    {
        LockGuard lock(mutex_);
        if (!reachable) {
            last_error_ = error;
            probed_ = false;  // it may come back as another version
        }
    }
    if (was != reachable) {
        if (reachable) {
            LOG_INFO << log::replica(url_) << "ClickHouse at " << url_ << " is reachable";
        } else {
            LOG_WARN << log::replica(url_) << "ClickHouse at " << url_
                     << " is unreachable: " << error;
        }
    }
}

void ServerMonitor::probe_once(HttpClient& client) {
    const auto r = client.query(url_, "SELECT 1");
    if (!answered_one(r)) {
        set_state(false, describe_failure(r));
        return;
    }
    bool need_probe = false;
    {
        LockGuard lock(mutex_);
        need_probe = !probed_;
    }
    if (need_probe) {
        std::string error;
        if (!probe_capabilities(client, error)) {
            set_state(false, "capability probe failed: " + error);
            return;
        }
    }
    set_state(true, "");
}

bool ServerMonitor::probe_capabilities(HttpClient& client, std::string& error) {
    auto info = std::make_shared<ServerInfo>();

    auto r = client.query(url_, "SELECT version()");
    if (!r.transport_ok || r.status != 200) {
        error = describe_failure(r);
        return false;
    }
    info->version = trim(r.body);

    std::string names = "'insert_deduplication_token','async_insert','insert_distributed_sync'";
    for (const auto& [name, value] : cfg_.settings)
        names += ",'" + name + "'";
    r = client.query(url_, "SELECT name FROM system.settings WHERE name IN (" + names + ")");
    if (!r.transport_ok || r.status != 200) {
        error = describe_failure(r);
        return false;
    }
    std::set<std::string> known;
    std::istringstream lines(r.body);
    for (std::string line; std::getline(lines, line);)
        known.insert(trim(line));
    info->insert_deduplication_token = known.contains("insert_deduplication_token");
    info->async_insert = known.contains("async_insert");
    info->insert_distributed_sync = known.contains("insert_distributed_sync");
    for (const auto& [name, value] : cfg_.settings) {
        if (known.contains(name) || kHttpParameters.contains(name)) {
            info->settings[name] = value;
        } else {
            LOG_ERROR << "clickhouse.settings." << name << " is not a setting of ClickHouse "
                      << info->version
                      << "; it is left out of INSERTs, which it would fail with Code 115";
        }
    }

    r = client.post(url_ + "/?wait_end_of_query=1", "SELECT 1", nullptr);
    info->wait_end_of_query = answered_one(r);

    Compressor compressor;
    std::string compressed;
    compressor.compress(config::Compression::zstd, "SELECT 1", compressed);
    r = client.post(url_ + "/", compressed, "zstd");
    info->zstd_body = answered_one(r);

    LOG_INFO << "ClickHouse " << info->version << " at " << url_ << ": zstd bodies "
             << (info->zstd_body ? "yes" : "no") << ", wait_end_of_query "
             << (info->wait_end_of_query ? "yes" : "no") << ", insert_deduplication_token "
             << (info->insert_deduplication_token ? "yes" : "no") << ", async_insert "
             << (info->async_insert ? "yes" : "no") << ", insert_distributed_sync "
             << (info->insert_distributed_sync ? "yes" : "no");
    if (!info->insert_distributed_sync) {
        LOG_WARN << "ClickHouse at " << url_
                 << " has no insert_distributed_sync: tables with distributed: true get no "
                    "committed acks while it is in use";
    }
    LockGuard lock(mutex_);
    info_ = std::move(info);
    probed_ = true;
    return true;
}

}  // namespace chgate::clickhouse
