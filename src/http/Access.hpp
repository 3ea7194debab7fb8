#pragma once

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/Cidr.hpp"
#include "config/Config.hpp"
#include "http/Dialect.hpp"
#include "http/Response.hpp"
#include "http/TokenBucket.hpp"
#include "util/Mutex.hpp"

namespace chgate::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

/// Who may do what: ingest tokens (which tables, how fast), the admin and
/// metrics tokens, and the address rules. Pure: it reads requests and
/// addresses, never a socket; tokens are compared by their SHA-256 in
/// constant time. Thread-safe; reload() swaps the rules in.
class Access {
  public:
    /// One token as it stands now, with its rate limits and counters (kept
    /// by name across reloads).
    struct Token {
        config::TokenConfig config;
        std::shared_ptr<TokenBucket> events;  ///< null: no limit
        std::shared_ptr<TokenBucket> bytes;   ///< null: no limit
        struct Counts {
            std::atomic<std::uint64_t> requests{0};      ///< admitted
            std::atomic<std::uint64_t> forbidden{0};     ///< 403: a table outside its globs
            std::atomic<std::uint64_t> rate_limited{0};  ///< 429
        };
        std::shared_ptr<Counts> counts;
    };

    /// Who sent an ingest request. `token` is null for an anonymous caller
    /// (no tokens configured); an unauthenticated one never gets this far.
    struct Caller {
        std::shared_ptr<const Token> token;
        const std::string& name() const;
    };

    Access(const config::Config& cfg, bool listens_on_loopback);

    /// A configuration reload: tokens, their tables and rates, the admin and
    /// metrics tokens, admin.allow_from. Counters and saved-up rate of tokens
    /// kept by name.
    void reload(const config::Config& cfg);

    /// The caller of an ingest request by its credentials: Authorization
    /// (Bearer, or Basic with the token as password), X-ClickHouse-Key, or on
    /// the ClickHouse-compatible endpoint the `password` URL parameter. A
    /// refusal (401) when tokens are configured and none of them matches.
    std::optional<Response> authenticate(const Request& req, std::string_view url_query,
                                         Dialect dialect, Caller& caller) const;
    /// 403 unless the caller may write `database`.`table` (its globs: a glob
    /// without a dot is a table of clickhouse.database, one with a dot is
    /// "database.table").
    std::optional<Response> authorize(const Caller& caller, std::string_view database,
                                      std::string_view table) const;
    /// 429 (with Retry-After and X-RateLimit-*) if the caller is past its
    /// rate; else takes `events` and `bytes` from it.
    std::optional<Response> take(const Caller& caller, std::uint64_t events, std::uint64_t bytes,
                                 TokenBucket::Clock::time_point now) const;
    /// Counts an admitted request for the caller's token.
    void count_request(const Caller& caller) const;

    /// /admin/: 403 from outside admin.allow_from; with admin.token, 401
    /// without it and 403 with another; without one, closed (403) unless
    /// chgate listens on loopback.
    std::optional<Response> check_admin(const Request& req,
                                        const boost::asio::ip::address& peer) const;
    /// /metrics, /readyz and /ui: with metrics.token, 401 without it (or the
    /// admin token) and 403 with another. The token may come as a Bearer token
    /// or as the password of Basic auth (what a browser sends); `browser`
    /// asks for the latter in the 401, so that a browser prompts for it.
    std::optional<Response> check_metrics(const Request& req, bool browser = false) const;
    /// server.allow_from, for a new connection.
    bool connection_allowed(const boost::asio::ip::address& peer) const;

    /// For /metrics: the tokens now, and requests refused for no valid token.
    std::vector<std::shared_ptr<const Token>> tokens() const;
    std::uint64_t unauthorized() const { return unauthorized_.load(std::memory_order_relaxed); }

  private:
    struct Rules {
        std::vector<std::shared_ptr<const Token>> tokens;
        std::optional<config::TokenDigest> admin_token;
        std::optional<config::TokenDigest> metrics_token;
        std::vector<config::Cidr> admin_from;
    };
    std::shared_ptr<const Rules> rules() const { return rules_.load(); }
    std::shared_ptr<const Rules> build(const config::Config& cfg) REQUIRES(reload_mutex_);

    const bool loopback_;
    const std::string default_database_;
    const std::vector<config::Cidr> server_from_;
    std::atomic<std::shared_ptr<const Rules>> rules_;
    Mutex reload_mutex_;
    // Guarded by reload_mutex_: what a token keeps across reloads, by name.
    std::map<std::string, std::shared_ptr<Token>> by_name_ GUARDED_BY(reload_mutex_);
    mutable std::atomic<std::uint64_t> unauthorized_{0};
};

/// The token a request carries, as Access::authenticate reads it (empty if
/// none). Exposed for tests.
std::string presented_token(const Request& req, std::string_view url_query, Dialect dialect);

}  // namespace chgate::http
