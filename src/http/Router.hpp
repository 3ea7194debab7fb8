#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "batch/MemoryBudget.hpp"
#include "http/Access.hpp"
#include "http/InflightBytes.hpp"
#include "http/IngestHandler.hpp"
#include "http/Response.hpp"
#include "util/Progress.hpp"

namespace chgate::clickhouse {
class Topology;
class ClusterCheck;
}  // namespace chgate::clickhouse
namespace chgate::core {
class RateWindow;
}
namespace chgate::metrics {
struct GatewaySnapshot;
}  // namespace chgate::metrics
namespace chgate::store {
class Storage;
}
namespace chgate::schema {
class SchemaCache;
class TableCreator;
class SchemaEvolver;
class RowBinaryEncoders;
}  // namespace chgate::schema

namespace chgate::http {

class AdminHandler;
class RowChecks;

/// What a session knows of a request beyond its bytes, and what admit()
/// found out for handle().
struct RequestContext {
    boost::asio::ip::address peer;
    std::optional<Access::Caller> caller;  ///< set once the credentials were checked
    bool bytes_taken = false;              ///< its body's bytes counted in the caller's rate
    void reset() {
        caller.reset();
        bytes_taken = false;
    }
};

/// Maps a method and path to a handler. Runs on io threads: everything it
/// calls returns without waiting on the network or the disk.
class Router {
  public:
    Router(batch::BatchManager& manager, const batch::MemoryBudget& budget,
           const core::RateWindow& inserted_rate, const clickhouse::Topology& replicas,
           store::Storage* storage, const ProgressBoard& progress);
    ~Router();

    /// Ends admin work in progress (dead-letter replays); before the manager goes.
    void stop();
    /// For wiring (App sets the reload hook); not while requests are served.
    AdminHandler& admin() { return *admin_; }
    /// The tables' row checkers (set_schemas); null without schemas.
    RowChecks* row_checks() { return row_checks_.get(); }

    /// Checks a request on its headers alone, before its body is read (and
    /// before "100 Continue"): the path, the method, access, and whether the
    /// table can take rows; then reserves its body's bytes (`content_length`,
    /// from the parser) in server.max_inflight_bytes, held in `inflight`. A
    /// refusal is the answer the whole request would get.
    std::optional<Response> admit(const Request& req, std::optional<std::uint64_t> content_length,
                                  InflightBytes& inflight, RequestContext& context);

    /// The answer now, or nullopt when the handler will answer through `defer`.
    std::optional<Response> handle(const Request& req, IngestScratch& scratch, const Defer& defer,
                                   RequestContext& context);

    /// clickhouse.cluster.discover's check, shown in /metrics and /readyz;
    /// null without it. For wiring, before requests are served.
    void set_cluster_check(const clickhouse::ClusterCheck* check) { cluster_check_ = check; }
    /// Each table's columns, for GET /v1/tables/{table} and the row checks
    /// of tables under schema: check. For wiring, before requests are served.
    void set_schemas(const schema::SchemaCache* schemas);
    /// clickhouse.create_tables' progress, shown in /metrics. For wiring.
    void set_table_creator(const schema::TableCreator* creator) { creator_ = creator; }
    /// insert_format: rowbinary's counts, for /metrics.
    void set_encoders(const schema::RowBinaryEncoders* encoders) { encoders_ = encoders; }
    /// Where tables with on_invalid: quarantine send events that do not fit.
    /// For wiring.
    void set_quarantine(batch::Quarantine* quarantine) { ingest_.set_quarantine(quarantine); }
    /// Adds columns for new fields (schema_evolution); after set_schemas.
    void set_evolver(schema::SchemaEvolver* evolver);

    /// POST /admin/drain: ingest answers 503 and /readyz says so.
    void set_draining() { ingest_.set_draining(); }

    /// Who may do what; App reloads it with the configuration.
    Access& access() { return access_; }

    /// server.max_inflight_bytes, shared by every connection.
    batch::MemoryBudget& inflight_budget() { return inflight_; }

    /// The connection counts, kept by the Server, shown in /metrics.
    struct ConnectionCounts {
        std::atomic<std::uint64_t> open{0};
        std::atomic<std::uint64_t> refusing{0};  ///< RefusedConnections still open
        std::atomic<std::uint64_t> refused{0};   ///< ever
        std::atomic<std::uint64_t> denied{0};    ///< closed: not in server.allow_from
    };
    ConnectionCounts& connection_counts() { return connections_; }

    /// Configuration reloads (SIGHUP, POST /admin/reload), counted by App,
    /// shown in /metrics.
    struct ReloadCounts {
        std::atomic<std::uint64_t> applied{0};
        std::atomic<std::uint64_t> failed{0};
        std::atomic<bool> last_ok{true};
        std::atomic<std::int64_t> last_unix_ms{0};
        void record(bool ok, std::int64_t unix_ms) {
            (ok ? applied : failed).fetch_add(1, std::memory_order_relaxed);
            last_ok.store(ok, std::memory_order_relaxed);
            last_unix_ms.store(unix_ms, std::memory_order_relaxed);
        }
    };
    ReloadCounts& reload_counts() { return reloads_; }

  private:
    /// The caller of an ingest request, checked once per request (by admit(),
    /// or here); a 401 when its credentials are not valid.
    std::optional<Response> authenticate(const Request& req, std::string_view query,
                                         Dialect dialect, RequestContext& context) const;
    /// GET /v1/tables/{table}: the columns chgate knows and the settings.
    Response table_info(std::string_view name, const Access::Caller* caller) const;
    Response metrics() const;
    Response metrics_prometheus() const;
    /// GET /ui: the status page (src/http/StatusPage.html).
    static Response status_page();
    Response ready() const;
    nlohmann::ordered_json clickhouse_state() const;

    Access access_;
    IngestHandler ingest_;
    batch::BatchManager& manager_;
    const batch::MemoryBudget& budget_;
    const core::RateWindow& inserted_rate_;
    const clickhouse::Topology& replicas_;
    const store::Storage* storage_;
    std::unique_ptr<AdminHandler> admin_;
    const clickhouse::ClusterCheck* cluster_check_ = nullptr;
    const schema::SchemaCache* schemas_ = nullptr;
    std::unique_ptr<RowChecks> row_checks_;
    const schema::TableCreator* creator_ = nullptr;
    const schema::RowBinaryEncoders* encoders_ = nullptr;
    batch::MemoryBudget inflight_;
    ConnectionCounts connections_;
    ReloadCounts reloads_;
    const ProgressBoard& progress_;  // the long operations running now, shown by /readyz
    /// What /metrics adds to the batch and storage figures.
    void fill_server(metrics::GatewaySnapshot& g) const;
};

}  // namespace chgate::http
