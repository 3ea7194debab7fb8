#include <catch2/catch.hpp>

#include "app/Cli.hpp"
#include "app/Drain.hpp"
#include "config/ConfigLoader.hpp"

using namespace chgate;
using namespace chgate::app;
using Action = CliOptions::Action;

TEST_CASE("command lines") {
    CHECK(parse_cli({"--config", "a.yaml"}).action == Action::run);
    CHECK(parse_cli({"--config", "a.yaml"}).config_path == "a.yaml");
    CHECK(parse_cli({"--config=b.yaml"}).config_path == "b.yaml");
    CHECK(parse_cli({"-c", "a.yaml"}).action == Action::run);
    CHECK(parse_cli({"--check-config", "a.yaml"}).action == Action::check_config);
    CHECK(parse_cli({"--check-config=a.yaml"}).config_path == "a.yaml");
    CHECK(parse_cli({"--help"}).action == Action::help);
    CHECK(parse_cli({"--version"}).action == Action::version);
}

TEST_CASE("bad command lines say what is wrong") {
    CHECK_THAT(parse_cli({}).error, Catch::Contains("--config FILE"));
    CHECK_THAT(parse_cli({"--config"}).error, Catch::Contains("needs a file name"));
    CHECK_THAT(parse_cli({"--config="}).error, Catch::Contains("needs a file name"));
    CHECK_THAT(parse_cli({"--bogus"}).error, Catch::Contains("unknown argument \"--bogus\""));
    CHECK_THAT(parse_cli({"--config", "a", "--check-config", "b"}).error,
               Catch::Contains("give one of"));
    CHECK(parse_cli({"x"}).action == Action::error);
}

TEST_CASE("the help text documents every option") {
    for (auto opt :
         {"--config FILE", "--check-config FILE", "drain --config FILE", "--timeout",
          "CHGATE_ADMIN_TOKEN", "--version", "--help", "SIGTERM", "chgate status", "chgate top",
          "--json", "--url", "--interval", "CHGATE_METRICS_TOKEN", "GET  /ui"}) {
        CHECK_THAT(usage(), Catch::Contains(opt));
    }
}

TEST_CASE("chgate drain takes the running chgate's config and a timeout") {
    const auto d = parse_cli({"drain", "--config", "a.yaml"});
    CHECK(d.action == Action::drain);
    CHECK(d.config_path == "a.yaml");
    CHECK(d.drain_timeout == std::chrono::minutes(5));
    CHECK(parse_cli({"drain", "--timeout", "90s", "-c", "a.yaml"}).drain_timeout ==
          std::chrono::seconds(90));
    CHECK_THAT(parse_cli({"drain"}).error, Catch::Contains("drain needs --config FILE"));
    CHECK_THAT(parse_cli({"drain", "--config"}).error, Catch::Contains("needs a value"));
    CHECK_THAT(parse_cli({"drain", "-c", "a", "--timeout", "soon"}).error,
               Catch::Contains("--timeout must be a duration"));
    CHECK_THAT(parse_cli({"drain", "-c", "a", "--timeout", "48h"}).error,
               Catch::Contains("up to 24h"));
    CHECK_THAT(parse_cli({"drain", "-c", "a", "--now"}).error,
               Catch::Contains("unknown argument \"--now\""));
    CHECK(parse_cli({"--config", "a", "drain"}).action ==
          Action::error);  // a subcommand comes first
}

TEST_CASE("chgate drain reaches the instance on loopback at its listen port") {
    auto url = [](const std::string& yaml, std::string& error) {
        const auto c = config::load_config_text(yaml, "t.yaml", [](const std::string&) {
                           return std::optional<std::string>();
                       }).config;
        return drain_url(*c, std::chrono::seconds(300), error);
    };
    std::string error;
    CHECK(url("server: {listen: \"127.0.0.1:8080\"}", error) ==
          "http://127.0.0.1:8080/admin/drain?timeout=300s");
    CHECK(url("server: {listen: \"0.0.0.0:9000\"}\nauth: {allow_anonymous: true}", error) ==
          "http://127.0.0.1:9000/admin/drain?timeout=300s");
    CHECK(url("server: {listen: \"[::]:9000\"}\nauth: {allow_anonymous: true}", error) ==
          "http://[::1]:9000/admin/drain?timeout=300s");
    CHECK(url("server: {listen: \"127.0.0.1:0\"}", error).empty());
    CHECK_THAT(error, Catch::Contains("port 0"));
}

TEST_CASE("chgate status and top take a URL, an interval and (status) --json") {
    auto o = parse_cli({"status"});
    CHECK(o.action == Action::status);
    CHECK(o.url == "http://127.0.0.1:8080");
    CHECK(o.interval == std::chrono::seconds(1));
    CHECK_FALSE(o.json);
    o = parse_cli({"status", "--json", "--url", "https://gw:8443/", "--interval", "250ms"});
    CHECK(o.action == Action::status);
    CHECK(o.json);
    CHECK(o.url == "https://gw:8443");
    CHECK(o.interval == std::chrono::milliseconds(250));
    CHECK(parse_cli({"top", "--url", "http://h:1"}).action == Action::top);
    CHECK_THAT(parse_cli({"top", "--json"}).error, Catch::Contains("unknown argument \"--json\""));
    CHECK_THAT(parse_cli({"status", "--url", "gw:8080"}).error, Catch::Contains("http://"));
    CHECK_THAT(parse_cli({"status", "--interval", "5ms"}).error, Catch::Contains("100ms"));
    CHECK_THAT(parse_cli({"status", "--url"}).error, Catch::Contains("needs a value"));
}
