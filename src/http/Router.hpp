#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "http/IngestHandler.hpp"
#include "http/Response.hpp"

namespace chgate::batch {
class MemoryBudget;
}
namespace chgate::clickhouse {
class ReplicaSet;
}
namespace chgate::metrics {
class RateWindow;
}
namespace chgate::store {
class Storage;
}

namespace chgate::http {

class AdminHandler;

using Request = boost::beast::http::request<boost::beast::http::string_body>;

/// Maps a method and path to a handler. Runs on io threads: everything it
/// calls returns without waiting on the network or the disk.
class Router {
  public:
    Router(batch::BatchManager& manager, const batch::MemoryBudget& budget,
           const metrics::RateWindow& inserted_rate, const clickhouse::ReplicaSet& replicas,
           store::Storage* storage, std::uint64_t max_body_size,
           std::chrono::milliseconds commit_timeout, std::string admin_token);
    ~Router();

    /// Ends admin work in progress (dead-letter replays); before the manager goes.
    void stop();
    /// For wiring (App sets the reload hook); not while requests are served.
    AdminHandler& admin() { return *admin_; }

    /// The answer now, or nullopt when the handler will answer through `defer`.
    std::optional<Response> handle(const Request& req, IngestScratch& scratch, const Defer& defer);

  private:
    Response metrics() const;
    Response metrics_prometheus() const;
    Response ready() const;
    nlohmann::ordered_json clickhouse_state() const;

    IngestHandler ingest_;
    batch::BatchManager& manager_;
    const batch::MemoryBudget& budget_;
    const metrics::RateWindow& inserted_rate_;
    const clickhouse::ReplicaSet& replicas_;
    const store::Storage* storage_;
    std::unique_ptr<AdminHandler> admin_;
};

}  // namespace chgate::http
