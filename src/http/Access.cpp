#include "http/Access.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <cmath>

#include "http/ApiError.hpp"
#include "http/UrlQuery.hpp"
#include "util/Sha256.hpp"
#include "util/Strings.hpp"

namespace chgate::http {

namespace bhttp = boost::beast::http;

namespace {

const std::string kAnonymous = "anonymous";

std::vector<config::Cidr> parse_all(const std::vector<std::string>& texts) {
    std::vector<config::Cidr> out;
    for (const auto& t : texts) {
        std::string error;
        if (auto c = config::parse_cidr(t, error)) out.push_back(*c);  // validated at load
    }
    return out;
}

std::string_view bearer(const Request& req) {
    const auto header = req[bhttp::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() > kBearer.size() && iequals(header.substr(0, kBearer.size()), kBearer)) {
        return trim(header.substr(kBearer.size()));
    }
    return {};
}

Response unauthorized_response(const std::string& message) {
    auto r = error_response(ApiError::unauthorized, message);
    r.www_authenticate = "Bearer realm=\"chgate\"";
    return r;
}

// Whether `presented` matches `expected`, in time that does not depend on
// where they differ (both are digests).
bool matches(std::string_view presented, const config::TokenDigest& expected) {
    return same_digest(sha256(presented), expected);
}

}  // namespace

const std::string& Access::Caller::name() const {
    return token ? token->config.name : kAnonymous;
}

std::string presented_token(const Request& req, std::string_view url_query, Dialect dialect) {
    if (auto b = bearer(req); !b.empty()) return std::string(b);
    const auto header = req[bhttp::field::authorization];
    constexpr std::string_view kBasic = "Basic ";
    if (header.size() > kBasic.size() && iequals(header.substr(0, kBasic.size()), kBasic)) {
        // ClickHouse clients send user:password; the token is the password
        // (or the user, when there is no password).
        const auto encoded = trim(header.substr(kBasic.size()));
        std::string decoded(boost::beast::detail::base64::decoded_size(encoded.size()), '\0');
        const auto [written, read] =
            boost::beast::detail::base64::decode(decoded.data(), encoded.data(), encoded.size());
        decoded.resize(written);
        const auto colon = decoded.find(':');
        if (colon == std::string::npos) return decoded;
        auto password = decoded.substr(colon + 1);
        return password.empty() ? decoded.substr(0, colon) : password;
    }
    if (auto key = req["X-ClickHouse-Key"]; !key.empty()) return std::string(key);
    if (dialect == Dialect::clickhouse) {
        if (auto p = query_param(url_query, "password"); p && !p->empty()) return *p;
    }
    return {};
}

Access::Access(const config::Config& cfg, bool listens_on_loopback)
    : loopback_(listens_on_loopback),
      default_database_(cfg.clickhouse.database),
      server_from_(parse_all(cfg.server.allow_from)) {
    reload(cfg);
}

std::shared_ptr<const Access::Rules> Access::build(const config::Config& cfg) {
    auto rules = std::make_shared<Rules>();
    std::map<std::string, std::shared_ptr<Token>> next;
    for (const auto& t : cfg.auth.tokens) {
        auto token = std::make_shared<Token>();
        token->config = t;
        const auto old = by_name_.find(t.name);
        // Kept by name: what it has counted and saved up of its rate.
        token->counts =
            old != by_name_.end() ? old->second->counts : std::make_shared<Token::Counts>();
        auto bucket = [&](std::uint64_t rate, std::shared_ptr<TokenBucket> before) {
            if (rate == 0) return std::shared_ptr<TokenBucket>();
            if (before) {
                before->set_rate(static_cast<double>(rate));
                return before;
            }
            return std::make_shared<TokenBucket>(static_cast<double>(rate));
        };
        token->events =
            bucket(t.max_events_per_second, old != by_name_.end() ? old->second->events : nullptr);
        token->bytes =
            bucket(t.max_bytes_per_second, old != by_name_.end() ? old->second->bytes : nullptr);
        next[t.name] = token;
        rules->tokens.push_back(token);
    }
    by_name_ = std::move(next);
    rules->admin_token = cfg.admin.token;
    rules->metrics_token = cfg.metrics.token;
    rules->admin_from = parse_all(cfg.admin.allow_from);
    return rules;
}

void Access::reload(const config::Config& cfg) {
    LockGuard lock(reload_mutex_);
    rules_.store(build(cfg));
}

std::optional<Response> Access::authenticate(const Request& req, std::string_view url_query,
                                             Dialect dialect, Caller& caller) const {
    const auto r = rules();
    if (r->tokens.empty()) {
        caller.token = nullptr;  // no tokens: open (on loopback, or allow_anonymous)
        return std::nullopt;
    }
    const auto presented = presented_token(req, url_query, dialect);
    if (presented.empty()) {
        unauthorized_.fetch_add(1, std::memory_order_relaxed);
        return unauthorized_response(
            "a token is needed: Authorization: Bearer <token> (or X-ClickHouse-Key, or a "
            "ClickHouse client's password)");
    }
    // Every token is compared, match or not: the time taken does not say which.
    const auto digest = sha256(presented);
    std::shared_ptr<const Token> found;
    for (const auto& t : r->tokens) {
        if (same_digest(digest, t->config.digest)) found = t;
    }
    if (!found) {
        unauthorized_.fetch_add(1, std::memory_order_relaxed);
        return unauthorized_response("the token is not valid");
    }
    caller.token = std::move(found);
    return std::nullopt;
}

std::optional<Response> Access::authorize(const Caller& caller, std::string_view database,
                                          std::string_view table) const {
    if (!caller.token || caller.token->config.tables.empty()) return std::nullopt;
    const std::string qualified = std::string(database) + "." + std::string(table);
    for (const auto& glob : caller.token->config.tables) {
        const bool qualified_glob = glob.find('.') != std::string::npos;
        if (qualified_glob ? glob_match(glob, qualified)
                           : database == default_database_ && glob_match(glob, table)) {
            return std::nullopt;
        }
    }
    caller.token->counts->forbidden.fetch_add(1, std::memory_order_relaxed);
    return error_response(ApiError::forbidden, "token " + caller.name() +
                                                   " may not write to table " + qualified +
                                                   " (auth.tokens[].tables)");
}

std::optional<Response> Access::take(const Caller& caller, std::uint64_t events,
                                     std::uint64_t bytes,
                                     TokenBucket::Clock::time_point now) const {
    if (!caller.token) return std::nullopt;
    const auto& t = *caller.token;
    auto check = [&](const std::shared_ptr<TokenBucket>& bucket, std::uint64_t n,
                     const char* what) -> std::optional<Response> {
        if (!bucket || n == 0) return std::nullopt;
        const auto d = bucket->take(static_cast<double>(n), now);
        if (d.allowed) return std::nullopt;
        t.counts->rate_limited.fetch_add(1, std::memory_order_relaxed);
        const auto wait = std::max<long long>(1, std::llround(std::ceil(d.wait_seconds)));
        auto r =
            error_response(ApiError::rate_limited,
                           "token " + caller.name() + " is past its " + what + " (auth.tokens[]." +
                               what + "); retry in " + std::to_string(wait) + " s");
        r.retry_after_seconds = static_cast<int>(wait);
        const auto limit = std::llround(bucket->rate());
        r.extra_headers =
            "X-RateLimit-Limit: " + std::to_string(limit) +
            "\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: " + std::to_string(wait) + "\r\n";
        return r;
    };
    if (auto r = check(t.bytes, bytes, "max_bytes_per_second")) return r;
    return check(t.events, events, "max_events_per_second");
}

void Access::count_request(const Caller& caller) const {
    if (caller.token) caller.token->counts->requests.fetch_add(1, std::memory_order_relaxed);
}

std::optional<Response> Access::check_admin(const Request& req,
                                            const boost::asio::ip::address& peer) const {
    const auto r = rules();
    if (!config::allowed(r->admin_from, peer)) {
        return error_response(ApiError::forbidden,
                              "the admin API is not open to this address (admin.allow_from)");
    }
    if (!r->admin_token) {
        if (loopback_) return std::nullopt;
        return error_response(ApiError::forbidden,
                              "the admin API is closed: chgate listens beyond loopback and "
                              "admin.token is not set");
    }
    const auto presented = bearer(req);
    if (presented.empty()) {
        return unauthorized_response("the admin API needs Authorization: Bearer <admin.token>");
    }
    if (!matches(presented, *r->admin_token)) {
        return error_response(ApiError::forbidden, "wrong admin token");
    }
    return std::nullopt;
}

std::optional<Response> Access::check_metrics(const Request& req, bool browser) const {
    const auto r = rules();
    if (!r->metrics_token) return std::nullopt;
    const auto presented = presented_token(req, {}, Dialect::events);
    if (presented.empty()) {
        auto refused = unauthorized_response(
            "this needs Authorization: Bearer <metrics.token> (or the token as a Basic auth "
            "password)");
        if (browser) refused.www_authenticate = "Basic realm=\"chgate\", charset=\"UTF-8\"";
        return refused;
    }
    const auto digest = sha256(presented);
    const bool metrics_ok = same_digest(digest, *r->metrics_token);
    const bool admin_ok = r->admin_token && same_digest(digest, *r->admin_token);
    if (!metrics_ok && !admin_ok) return error_response(ApiError::forbidden, "wrong token");
    return std::nullopt;
}

bool Access::connection_allowed(const boost::asio::ip::address& peer) const {
    return config::allowed(server_from_, peer);
}

std::vector<std::shared_ptr<const Access::Token>> Access::tokens() const {
    return rules()->tokens;
}

}  // namespace chgate::http
