#include <catch2/catch.hpp>

#include "config/Cidr.hpp"
#include "config/ConfigLoader.hpp"
#include "config/ConfigPrinter.hpp"

using namespace chgate;
using namespace chgate::config;
namespace ip = boost::asio::ip;

TEST_CASE("address ranges") {
    std::string error;
    const auto net = parse_cidr("10.0.0.0/8", error);
    REQUIRE(net);
    CHECK(net->contains(ip::make_address("10.255.0.1")));
    CHECK_FALSE(net->contains(ip::make_address("11.0.0.1")));
    CHECK(net->contains(ip::make_address("::ffff:10.1.1.1")));  // IPv4 on an IPv6 socket
    const auto one = parse_cidr("192.168.1.7", error);
    REQUIRE(one);
    CHECK(one->contains(ip::make_address("192.168.1.7")));
    CHECK_FALSE(one->contains(ip::make_address("192.168.1.8")));
    const auto v6 = parse_cidr("fd00::/8", error);
    REQUIRE(v6);
    CHECK(v6->contains(ip::make_address("fd12::1")));
    CHECK_FALSE(v6->contains(ip::make_address("10.0.0.1")));
    CHECK_FALSE(parse_cidr("10.0.0.0/33", error));
    CHECK_FALSE(parse_cidr("nope", error));
    CHECK(allowed({}, ip::make_address("1.2.3.4")));
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("::1"));
    CHECK_FALSE(is_loopback_host("0.0.0.0"));
    CHECK_FALSE(is_loopback_host("10.0.0.1"));
}

TEST_CASE("auth config: tokens kept as digests, rules checked at load") {
    auto none = [](const std::string&) { return std::optional<std::string>(); };
    auto load = [&](const std::string& y) { return load_config_text(y, "t.yaml", none); };
    auto error_of = [&](const std::string& y) -> std::string {
        try {
            load(y);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "(no error)";
    };
    // Reachable from elsewhere with no token: refused, unless said so.
    CHECK_THAT(error_of("server: {listen: '0.0.0.0:8080'}"),
               Catch::Contains("auth.tokens is empty"));
    CHECK_NOTHROW(load("server: {listen: '0.0.0.0:8080'}\nauth: {allow_anonymous: true}"));
    CHECK_NOTHROW(
        load("server: {listen: '0.0.0.0:8080'}\nauth: {tokens: [{name: a, token: "
             "'0123456789abcdefghij'}]}"));
    CHECK_THAT(error_of("auth: {tokens: [{name: a, token: short}]}"),
               Catch::Contains("shorter than 16"));
    CHECK_THAT(error_of("auth: {tokens: [{name: a, token: '0123456789abcdefghij'}, "
                        "{name: a, token: '0123456789abcdefghiX'}]}"),
               Catch::Contains("is used twice"));
    CHECK_THAT(error_of("auth: {tokens: [{name: a, token_sha256: xyz}]}"),
               Catch::Contains("64 hex digits"));
    CHECK_THAT(error_of("auth: {tokens: [{name: a, token: '0123456789abcdefghij', "
                        "tables: ['a;b']}]}"),
               Catch::Contains("table name or glob"));
    CHECK_THAT(error_of("server: {allow_from: ['10.0.0.0/99']}"), Catch::Contains("prefix"));
    // An empty token (an unset ${VAR:-}) is left out.
    CHECK(load("auth: {tokens: [{name: a, token: ''}]}").config->auth.tokens.empty());
    const auto c = load(
        "auth: {tokens: [{name: a, token: '0123456789abcdefghij', max_bytes_per_second: 1MiB}]}");
    const auto printed = chgate::config::print_effective_config(*c.config);
    CHECK(printed.find("0123456789abcdefghij") == std::string::npos);
    CHECK(c.config->auth.tokens.at(0).max_bytes_per_second == 1 << 20);
}
