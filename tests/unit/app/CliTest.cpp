#include <catch2/catch.hpp>

#include "app/Cli.hpp"

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
    for (auto opt : {"--config FILE", "--check-config FILE", "--version", "--help", "SIGTERM"}) {
        CHECK_THAT(usage(), Catch::Contains(opt));
    }
}
