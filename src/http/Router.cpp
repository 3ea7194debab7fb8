#include "http/Router.hpp"

#include <cmath>

#include "clickhouse/ClusterCheck.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "config/Cidr.hpp"
#include "config/ListenAddress.hpp"
#include "core/RateWindow.hpp"
#include "http/AdminHandler.hpp"
#include "http/ApiError.hpp"
#include "http/RowChecks.hpp"
#include "http/StatusPageHtml.hpp"
#include "http/UrlQuery.hpp"
#include "metrics/MetricsJson.hpp"
#include "metrics/MetricsPrometheus.hpp"
#include "schema/RowBinaryEncoders.hpp"
#include "schema/TableCreator.hpp"
#include "store/Spool.hpp"
#include "store/Storage.hpp"
#include "util/Json.hpp"
#include "util/TimeFormat.hpp"

namespace chgate::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kEventsPrefix = "/v1/events/";
constexpr std::string_view kTablesPrefix = "/v1/tables/";

Response text(bhttp::status status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = "text/plain; charset=UTF-8";
    return r;
}

// What the ingest handler reads of a request.
IngestInput ingest_input(const Request& req, const Target& target, const Defer* defer,
                         const RequestContext& context) {
    IngestInput in;
    in.content_encoding = req[bhttp::field::content_encoding];
    in.content_type = req[bhttp::field::content_type];
    in.body = req.body();
    in.url_query = target.query;
    in.defer = defer;
    in.idempotency_key = req["Idempotency-Key"];
    in.scope = target.path;
    in.caller = context.caller ? &*context.caller : nullptr;
    in.bytes_taken = context.bytes_taken;
    return in;
}

bool listens_on_loopback(const config::Config& c) {
    std::string error;
    const auto address = config::parse_listen_address(c.server.listen, error);
    return address && config::is_loopback_host(address->host);
}

Response method_not_allowed(const char* allow) {
    auto r = error_response(ApiError::method_not_allowed,
                            "method not allowed; use " + std::string(allow));
    r.allow = allow;
    return r;
}

}  // namespace

Router::Router(batch::BatchManager& manager, const batch::MemoryBudget& budget,
               const core::RateWindow& inserted_rate, const clickhouse::Topology& replicas,
               store::Storage* storage, const ProgressBoard& progress)
    : access_(manager.registry().startup_config(),
              listens_on_loopback(manager.registry().startup_config())),
      ingest_(manager, access_, manager.registry().startup_config().server.max_body_size,
              manager.registry().startup_config().server.commit_timeout,
              manager.registry().startup_config().server.idempotency_window,
              manager.registry().startup_config().server.idempotency_max_keys,
              [&replicas] { return replicas.unsharded()->lacks_distributed_sync(); }),
      manager_(manager),
      budget_(budget),
      inserted_rate_(inserted_rate),
      replicas_(replicas),
      storage_(storage),
      admin_(std::make_unique<AdminHandler>(manager, storage)),
      inflight_(manager.registry().startup_config().server.max_inflight_bytes),
      progress_(progress) {}

Router::~Router() = default;

void Router::set_evolver(schema::SchemaEvolver* evolver) {
    ingest_.set_evolver(evolver);
    if (row_checks_) row_checks_->set_evolver(evolver);
}

void Router::set_schemas(const schema::SchemaCache* schemas) {
    schemas_ = schemas;
    row_checks_ =
        schemas != nullptr
            ? std::make_unique<RowChecks>(*schemas, manager_.registry().startup_config().clickhouse)
            : nullptr;
    ingest_.set_row_checks(row_checks_.get());
}

void Router::stop() {
    admin_->stop();
}

std::optional<Response> Router::authenticate(const Request& req, std::string_view query,
                                             Dialect dialect, RequestContext& context) const {
    if (context.caller) return std::nullopt;
    Access::Caller caller;
    if (auto refused = access_.authenticate(req, query, dialect, caller)) return refused;
    context.caller = std::move(caller);
    return std::nullopt;
}

std::optional<Response> Router::admit(const Request& req,
                                      std::optional<std::uint64_t> content_length,
                                      InflightBytes& inflight, RequestContext& context) {
    const auto target = split_target(req.target());
    const auto path = target.path;
    const auto method = req.method();
    // What handle() would refuse on the headers alone.
    std::optional<Response> refused;
    if (path.starts_with("/admin/")) {
        refused = access_.check_admin(req, context.peer);
    } else if (path.starts_with(kEventsPrefix)) {
        if (method != bhttp::verb::post) return method_not_allowed("POST");
        refused = authenticate(req, target.query, Dialect::events, context);
        if (!refused) {
            refused = ingest_.admit_events(path.substr(kEventsPrefix.size()),
                                           ingest_input(req, target, nullptr, context));
        }
    } else if (path == "/" && method == bhttp::verb::post) {
        refused = authenticate(req, target.query, Dialect::clickhouse, context);
        if (!refused) {
            refused =
                ingest_.admit_insert(target.query, ingest_input(req, target, nullptr, context));
        }
    }
    if (refused) return refused;
    if (context.caller && content_length) {
        // The caller's bytes per second, before the body is read.
        if (auto limited =
                access_.take(*context.caller, 0, *content_length, TokenBucket::Clock::now())) {
            return limited;
        }
        context.bytes_taken = true;
    }
    // The body's bytes, before they are read. A chunked body reserves its
    // chunks as they come (Session).
    if (content_length && !inflight.reserve(*content_length)) {
        return error_response(ApiError::gateway_full,
                              "the gateway is reading server.max_inflight_bytes of request "
                              "bodies already; retry later");
    }
    return std::nullopt;
}

std::optional<Response> Router::handle(const Request& req, IngestScratch& scratch,
                                       const Defer& defer, RequestContext& context) {
    const auto target = split_target(req.target());
    const auto method = req.method();
    const auto path = target.path;

    if (path.starts_with("/admin/")) {
        if (auto refused = access_.check_admin(req, context.peer)) return refused;
        return admin_->handle(req, path.substr(6), defer);
    }
    if (path.starts_with(kTablesPrefix)) {
        if (method != bhttp::verb::get && method != bhttp::verb::head) {
            return method_not_allowed("GET");
        }
        if (auto refused = authenticate(req, target.query, Dialect::events, context))
            return refused;
        return table_info(path.substr(kTablesPrefix.size()),
                          context.caller ? &*context.caller : nullptr);
    }
    if (path.starts_with(kEventsPrefix)) {
        if (method != bhttp::verb::post) return method_not_allowed("POST");
        if (auto refused = authenticate(req, target.query, Dialect::events, context))
            return refused;
        return ingest_.post_events(path.substr(kEventsPrefix.size()),
                                   ingest_input(req, target, &defer, context), scratch);
    }
    if (path == "/") {
        if (method == bhttp::verb::post) {
            if (auto refused = authenticate(req, target.query, Dialect::clickhouse, context))
                return refused;
            return ingest_.post_insert(target.query, ingest_input(req, target, &defer, context),
                                       scratch);
        }
        if (method != bhttp::verb::get && method != bhttp::verb::head) {
            return method_not_allowed("GET, POST");
        }
        if (query_param(target.query, "query")) {
            return error_response(ApiError::bad_request,
                                  "chgate takes only INSERT INTO … FORMAT JSONEachRow, by POST; "
                                  "it is not a SQL proxy");
        }
        return text(bhttp::status::ok, "Ok.\n");  // what ClickHouse answers, for health checks
    }
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
        if (path == "/metrics" || path == "/metrics/prometheus" || path == "/healthz" ||
            path == "/readyz" || path == "/ping" || path == "/ui") {
            return method_not_allowed("GET");
        }
        return error_response(ApiError::not_found, "no such path: " + client_quote(path));
    }
    if (path == "/metrics/prometheus" || path == "/metrics" || path == "/readyz") {
        if (auto refused = access_.check_metrics(req)) return refused;
    }
    if (path == "/ui" || path == "/ui/") {
        if (auto refused = access_.check_metrics(req, true)) return refused;
        return status_page();
    }
    if (path == "/metrics/prometheus") return metrics_prometheus();
    if (path == "/metrics") {
        return metrics::accept_wants_prometheus_text(req[bhttp::field::accept])
                   ? metrics_prometheus()
                   : metrics();
    }
    if (path == "/healthz") {
        Response ok;
        ok.body = "{\"status\":\"ok\"}";
        return ok;
    }
    if (path == "/readyz") return ready();
    if (path == "/ping") return text(bhttp::status::ok, "Ok.\n");
    return error_response(ApiError::not_found, "no such path: " + client_quote(path));
}

void Router::fill_server(metrics::GatewaySnapshot& g) const {
    const auto& server = manager_.registry().startup_config().server;
    g.connections = connections_.open.load(std::memory_order_relaxed);
    g.max_connections = server.max_connections;
    g.connections_refused = connections_.refused.load(std::memory_order_relaxed);
    g.connections_denied = connections_.denied.load(std::memory_order_relaxed);
    g.inflight_bytes = inflight_.held();
    g.max_inflight_bytes = inflight_.limit();
    for (const auto& t : access_.tokens()) {
        const auto& c = *t->counts;
        g.tokens.push_back({t->config.name, c.requests.load(std::memory_order_relaxed),
                            c.forbidden.load(std::memory_order_relaxed),
                            c.rate_limited.load(std::memory_order_relaxed)});
    }
    g.unauthorized = access_.unauthorized();
    g.reloads_applied = reloads_.applied.load(std::memory_order_relaxed);
    g.reloads_failed = reloads_.failed.load(std::memory_order_relaxed);
    g.last_reload_ok = reloads_.last_ok.load(std::memory_order_relaxed);
    g.last_reload_unix_ms = reloads_.last_unix_ms.load(std::memory_order_relaxed);
    const auto& readiness = manager_.registry().startup_config().readiness;
    g.readiness_max_lag_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(readiness.max_lag).count();
    g.readiness_max_spool_bytes = readiness.max_spool_bytes;
}

Response Router::status_page() {
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body.assign(kStatusPageHtml);
    // The page draws only what /metrics gives, as text; still, nothing but
    // its own script and this origin.
    r.extra_headers =
        "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src "
        "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        "Referrer-Policy: no-referrer\r\n";
    return r;
}

Response Router::metrics() const {
    auto snapshot =
        metrics::take_snapshot(manager_, budget_, inserted_rate_, storage_, Clock::now());
    fill_server(snapshot);
    auto body = metrics::render_metrics_json(snapshot);
    body["clickhouse"] = clickhouse_state();
    Response r;
    r.body = dump_json(body);
    return r;
}

Response Router::metrics_prometheus() const {
    auto snapshot =
        metrics::take_snapshot(manager_, budget_, inserted_rate_, storage_, Clock::now());
    fill_server(snapshot);
    metrics::ClickHouseUp up;
    up.reachable = replicas_.any_reachable();
    const auto now = clickhouse::CircuitBreaker::Clock::now();
    for (const auto& r : replicas_.servers()) {
        ++up.replicas;
        const bool reachable = r->monitor.reachable();
        if (reachable) ++up.replicas_reachable;
        up.servers.push_back(
            {r->url, reachable, std::string(clickhouse::to_string(r->breaker.state(now)))});
    }
    const auto shards = replicas_.shards();
    for (std::uint32_t i = 1; i <= shards.size(); ++i) {
        const auto set = replicas_.replicas_for(i);
        up.shards.emplace_back(i, set && set->any_reachable());
    }
    Response r;
    r.content_type = metrics::kPrometheusContentType;
    r.body = metrics::render_metrics_prometheus(snapshot, up);
    return r;
}

nlohmann::ordered_json Router::clickhouse_state() const {
    const auto now = clickhouse::CircuitBreaker::Clock::now();
    nlohmann::ordered_json replicas = nlohmann::ordered_json::array();
    std::string version;
    for (const auto& r : replicas_.servers()) {
        const auto info = r->monitor.info();
        if (version.empty()) version = info->version;
        replicas.push_back(
            {{"url", r->url},
             {"reachable", r->monitor.reachable()},
             {"version", info->version.empty() ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json(info->version)},
             {"circuit_breaker", clickhouse::to_string(r->breaker.state(now))},
             {"consecutive_failures", r->breaker.consecutive_failures()}});
    }
    nlohmann::ordered_json state = {{"reachable", replicas_.any_reachable()},
                                    {"version", version.empty() ? nlohmann::ordered_json(nullptr)
                                                                : nlohmann::ordered_json(version)},
                                    {"replicas", replicas}};
    // A shard whose every replica is down holds its own rows; the others go on,
    // so it is shown here rather than making chgate unready.
    // The shards now (a reload or discover may change them); not those gone
    // that still deliver rows placed on them before.
    if (const auto cluster = replicas_.shards(); !cluster.empty()) {
        auto shards = nlohmann::ordered_json::array();
        for (std::uint32_t i = 1; i <= cluster.size(); ++i) {
            const auto set = replicas_.replicas_for(i);
            shards.push_back({{"shard", i},
                              {"weight", cluster[i - 1].weight},
                              {"reachable", set && set->any_reachable()},
                              {"replicas", cluster[i - 1].replicas}});
        }
        state["shards"] = std::move(shards);
    }
    if (creator_ != nullptr) {
        const auto c = creator_->state();
        state["create_tables"] = {
            {"statements", c.statements},
            {"applied", c.applied},
            {"refused", c.failed},
            {"pending", c.statements - c.applied - c.failed},
            {"last_error", c.last_error.empty() ? nlohmann::ordered_json(nullptr)
                                                : nlohmann::ordered_json(c.last_error)}};
    }
    if (encoders_ != nullptr) {
        state["rowbinary"] = {{"batches", encoders_->encoded()},
                              {"as_jsoneachrow", encoders_->fell_back()}};
    }
    if (cluster_check_ != nullptr) {
        const auto check = cluster_check_->state();
        state["cluster"] = {
            {"name", manager_.registry().startup_config().clickhouse.cluster_name},
            {"checked", check.checked},
            {"matches", check.checked && check.differences.empty()},
            {"differences", check.differences},
            {"checked_on", check.server.empty() ? nlohmann::ordered_json(nullptr)
                                                : nlohmann::ordered_json(check.server)},
            {"at", check.at == std::chrono::system_clock::time_point{}
                       ? nlohmann::ordered_json(nullptr)
                       : nlohmann::ordered_json(format_utc_seconds(check.at))},
            {"error", check.error.empty() ? nlohmann::ordered_json(nullptr)
                                          : nlohmann::ordered_json(check.error)}};
    }
    return state;
}

Response Router::ready() const {
    const bool reachable = replicas_.any_reachable();
    const auto& readiness = manager_.registry().startup_config().readiness;
    const auto now = Clock::now();
    std::vector<std::string> reasons;
    if (!reachable) {
        std::string errors;
        const auto servers = replicas_.servers();
        for (const auto& r : servers) {
            errors += (errors.empty() ? "" : "; ") + (servers.size() > 1 ? r->url + ": " : "") +
                      r->monitor.last_error();
        }
        reasons.push_back("ClickHouse does not answer chgate's probe: " + errors);
    }
    const auto running = progress_.views(now);
    if (!manager_.registry().ready()) {
        std::string why = "replaying the write-ahead log";
        for (const auto& p : running) {
            if (p.operation == "wal_replay") why += ": " + describe(p);
        }
        reasons.push_back(why);
    }
    if (ingest_.draining()) reasons.push_back("draining (POST /admin/drain): takes no more events");
    for (const auto& [table, why] : manager_.registry().failed_logs()) {
        reasons.push_back("table " + table + ": its write-ahead log failed (" + why +
                          "); durable requests answer 503 until a write succeeds again");
    }
    if (storage_ != nullptr && readiness.max_spool_bytes > 0 &&
        storage_->spool().bytes() > readiness.max_spool_bytes) {
        reasons.push_back("the spool holds " + std::to_string(storage_->spool().bytes()) +
                          " bytes (readiness.max_spool_bytes " +
                          config::format_size(readiness.max_spool_bytes) + ")");
    }
    nlohmann::ordered_json held = nlohmann::ordered_json::object();
    for (const auto& t : manager_.registry().tables()) {
        const auto h = t->hold_state();
        if (h.held) {
            held[t->name()] = {{"reason", h.reason}, {"since", format_utc_seconds(h.since)}};
            if (readiness.held_tables)
                reasons.push_back("table " + t->name() + " is held: " + h.reason);
        }
        const auto sealed = t->oldest_sealed();
        if (readiness.max_lag.count() > 0 && sealed != TimePoint::max() &&
            now - sealed > readiness.max_lag) {
            reasons.push_back(
                "table " + t->name() + ": a batch has waited " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::seconds>(now - sealed).count()) +
                " s for ClickHouse (readiness.max_lag " +
                config::format_duration(readiness.max_lag) + ")");
        }
    }
    nlohmann::ordered_json body = {{"ready", reasons.empty()}, {"clickhouse", clickhouse_state()}};
    if (!reasons.empty()) {
        std::string joined;
        for (const auto& r : reasons)
            joined += (joined.empty() ? "" : "; ") + r;
        body["reason"] = joined;
        body["reasons"] = reasons;
    }
    if (!held.empty()) body["held_tables"] = held;
    if (!running.empty()) {
        auto& list = body["progress"] = nlohmann::ordered_json::array();
        for (const auto& p : running) {
            nlohmann::ordered_json o = {{"operation", p.operation}};
            if (!p.table.empty()) o["table"] = p.table;
            o["rows_done"] = p.rows_done;
            o["rows_left"] = p.rows_left;
            o["rows_left_estimated"] = p.left_estimated;
            o["rows_per_second"] = std::round(p.rows_per_second * 10) / 10;
            o["eta_seconds"] = p.eta_seconds
                                   ? nlohmann::ordered_json(std::round(*p.eta_seconds * 10) / 10)
                                   : nlohmann::ordered_json(nullptr);
            o["elapsed_seconds"] = std::round(p.elapsed_seconds * 10) / 10;
            list.push_back(std::move(o));
        }
    }
    Response r;
    r.status = reasons.empty() ? bhttp::status::ok : bhttp::status::service_unavailable;
    r.body = dump_json(body);
    return r;
}

}  // namespace chgate::http
