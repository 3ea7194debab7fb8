#include <boost/beast/core/detail/base64.hpp>
#include <catch2/catch.hpp>

#include "config/ConfigLoader.hpp"
#include "http/Access.hpp"
#include "util/Strings.hpp"

using namespace chgate;
using namespace chgate::http;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

namespace {

config::ConfigPtr config_from(const std::string& yaml) {
    return config::load_config_text(yaml, "t.yaml",
                                    [](const std::string&) { return std::optional<std::string>(); })
        .config;
}

Request post(std::string target) {
    Request r{bhttp::verb::post, target, 11};
    return r;
}

const char* kTwoTokens = R"(
auth:
  tokens:
    - {name: web, token: "web-token-0123456789", tables: [events, "analytics.*"],
       max_events_per_second: 10}
    - {name: etl, token: "etl-token-0123456789"}
)";

}  // namespace

TEST_CASE("the token comes from Bearer, Basic, X-ClickHouse-Key, or the password parameter") {
    auto r = post("/v1/events/t");
    r.set(bhttp::field::authorization, "Bearer abc");
    CHECK(presented_token(r, {}, Dialect::events) == "abc");
    r = post("/");
    std::string basic(boost::beast::detail::base64::encoded_size(10), '\0');
    basic.resize(boost::beast::detail::base64::encode(basic.data(), "user:s3cr", 9));
    r.set(bhttp::field::authorization, "Basic " + basic);
    CHECK(presented_token(r, {}, Dialect::clickhouse) == "s3cr");
    r = post("/");
    r.set("X-ClickHouse-Key", "key");
    CHECK(presented_token(r, {}, Dialect::clickhouse) == "key");
    r = post("/");
    CHECK(presented_token(r, "query=x&password=pw", Dialect::clickhouse) == "pw");
    CHECK(presented_token(r, "password=pw", Dialect::events)
              .empty());  // only the compatible endpoint
}

TEST_CASE("a request needs one of the tokens, and writes only to its tables") {
    const auto cfg = config_from(kTwoTokens);
    Access access(*cfg, true);
    Access::Caller caller;
    auto r = post("/v1/events/events");
    auto refused = access.authenticate(r, {}, Dialect::events, caller);
    REQUIRE(refused);
    CHECK(refused->status == bhttp::status::unauthorized);
    CHECK(refused->www_authenticate != nullptr);
    r.set(bhttp::field::authorization, "Bearer wrong-token-0123456789");
    CHECK(access.authenticate(r, {}, Dialect::events, caller)->status ==
          bhttp::status::unauthorized);
    CHECK(access.unauthorized() == 2);
    r.set(bhttp::field::authorization, "Bearer web-token-0123456789");
    REQUIRE_FALSE(access.authenticate(r, {}, Dialect::events, caller));
    CHECK(caller.name() == "web");
    CHECK_FALSE(access.authorize(caller, "default", "events"));
    CHECK_FALSE(access.authorize(caller, "analytics", "clicks"));
    const auto forbidden = access.authorize(caller, "default", "payments");
    REQUIRE(forbidden);
    CHECK(forbidden->status == bhttp::status::forbidden);
    CHECK(forbidden->body.find("web-token") == std::string::npos);  // never the token
    CHECK(access.authorize(caller, "other", "events"));  // "events" is a default-database glob
}

TEST_CASE("a glob without a dot names tables of the default database only") {
    const auto cfg = config_from(R"(
auth: {tokens: [{name: a, token: "aaaaaaaaaaaaaaaaaaaa", tables: ["ev*"]}]}
)");
    Access access(*cfg, true);
    Access::Caller caller;
    auto r = post("/");
    r.set("X-ClickHouse-Key", "aaaaaaaaaaaaaaaaaaaa");
    REQUIRE_FALSE(access.authenticate(r, {}, Dialect::clickhouse, caller));
    CHECK_FALSE(access.authorize(caller, "default", "events"));
    CHECK(access.authorize(caller, "analytics", "events"));
    CHECK(access.authorize(caller, "default", "payments"));
}

TEST_CASE("past its rate a token gets 429 with Retry-After and the X-RateLimit headers") {
    const auto cfg = config_from(kTwoTokens);
    Access access(*cfg, true);
    Access::Caller caller;
    auto r = post("/v1/events/events");
    r.set(bhttp::field::authorization, "Bearer web-token-0123456789");
    REQUIRE_FALSE(access.authenticate(r, {}, Dialect::events, caller));
    const auto now = TokenBucket::Clock::now() + 1h;  // the bucket is full by then
    CHECK_FALSE(access.take(caller, 8, 0, now));
    CHECK_FALSE(access.take(caller, 8, 0, now));  // not empty yet: it goes, into debt
    const auto limited = access.take(caller, 1, 0, now);
    REQUIRE(limited);
    CHECK(limited->status == bhttp::status::too_many_requests);
    CHECK(limited->retry_after_seconds >= 1);
    CHECK_THAT(limited->extra_headers, Catch::Contains("X-RateLimit-Limit: 10\r\n"));
    CHECK_THAT(limited->extra_headers, Catch::Contains("X-RateLimit-Remaining: 0\r\n"));
    CHECK_THAT(limited->extra_headers, Catch::Contains("X-RateLimit-Reset: "));
    // A second later it has room again.
    CHECK_FALSE(access.take(caller, 1, 0, now + 1s));
    // The other token has no limit.
    Access::Caller etl;
    r.set(bhttp::field::authorization, "Bearer etl-token-0123456789");
    REQUIRE_FALSE(access.authenticate(r, {}, Dialect::events, etl));
    for (int i = 0; i < 100; ++i)
        CHECK_FALSE(access.take(etl, 1000, 1000, now));
}

TEST_CASE("a reload keeps a token's counters and swaps the rules") {
    auto cfg = config_from(kTwoTokens);
    Access access(*cfg, true);
    Access::Caller caller;
    auto r = post("/v1/events/events");
    r.set(bhttp::field::authorization, "Bearer etl-token-0123456789");
    REQUIRE_FALSE(access.authenticate(r, {}, Dialect::events, caller));
    access.count_request(caller);
    access.reload(*config_from(R"(
auth: {tokens: [{name: etl, token: "etl-token-9876543210"}]}
)"));
    CHECK(access.authenticate(r, {}, Dialect::events, caller)->status ==
          bhttp::status::unauthorized);
    r.set(bhttp::field::authorization, "Bearer etl-token-9876543210");
    REQUIRE_FALSE(access.authenticate(r, {}, Dialect::events, caller));
    REQUIRE(access.tokens().size() == 1);
    CHECK(access.tokens()[0]->counts->requests == 1);
}

TEST_CASE("no tokens: ingest is anonymous; the admin API is open on loopback only") {
    const auto cfg = config_from("{}");
    Access loopback(*cfg, true);
    Access::Caller caller;
    CHECK_FALSE(loopback.authenticate(post("/v1/events/t"), {}, Dialect::events, caller));
    CHECK(caller.name() == "anonymous");
    const auto peer = boost::asio::ip::make_address("127.0.0.1");
    CHECK_FALSE(loopback.check_admin(post("/admin/flush"), peer));
    Access exposed(*config_from("server: {listen: '0.0.0.0:8080'}\nauth: {allow_anonymous: true}"),
                   false);
    const auto closed = exposed.check_admin(post("/admin/flush"), peer);
    REQUIRE(closed);
    CHECK(closed->status == bhttp::status::forbidden);
}

TEST_CASE("admin.allow_from and the admin and metrics tokens") {
    const auto cfg = config_from(R"(
admin: {token: "admin-token-0123456789", allow_from: ["10.0.0.0/8", "::1"]}
metrics: {token: "metrics-token-0123456789"}
)");
    Access access(*cfg, true);
    auto r = post("/admin/flush");
    r.set(bhttp::field::authorization, "Bearer admin-token-0123456789");
    CHECK_FALSE(access.check_admin(r, boost::asio::ip::make_address("10.1.2.3")));
    CHECK_FALSE(access.check_admin(r, boost::asio::ip::make_address("::ffff:10.1.2.3")));
    CHECK_FALSE(access.check_admin(r, boost::asio::ip::make_address("::1")));
    CHECK(access.check_admin(r, boost::asio::ip::make_address("192.168.1.1"))->status ==
          bhttp::status::forbidden);
    r.set(bhttp::field::authorization, "Bearer nope");
    CHECK(access.check_admin(r, boost::asio::ip::make_address("10.1.2.3"))->status ==
          bhttp::status::forbidden);
    Request get{bhttp::verb::get, "/metrics", 11};
    CHECK(access.check_metrics(get)->status == bhttp::status::unauthorized);
    get.set(bhttp::field::authorization, "Bearer metrics-token-0123456789");
    CHECK_FALSE(access.check_metrics(get));
    get.set(bhttp::field::authorization, "Bearer admin-token-0123456789");
    CHECK_FALSE(access.check_metrics(get));
}

TEST_CASE("glob_match") {
    CHECK(glob_match("*", "anything"));
    CHECK(glob_match("ev*", "events"));
    CHECK(glob_match("e?ents", "events"));
    CHECK(glob_match("a.*", "a.b"));
    CHECK_FALSE(glob_match("ev*", "xevents"));
    CHECK_FALSE(glob_match("events", "events2"));
    CHECK(glob_match("*_log", "app_log"));
    CHECK(glob_match("**", ""));
}
