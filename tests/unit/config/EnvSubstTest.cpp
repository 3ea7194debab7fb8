#include <catch2/catch.hpp>
#include <map>

#include "config/EnvSubst.hpp"

using namespace chgate;
using namespace chgate::config;

namespace {
EnvLookup fake_env(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}
}  // namespace

TEST_CASE("environment variables are substituted") {
    const auto env = fake_env({{"HOST", "ch1"}, {"EMPTY", ""}});
    std::string error;
    CHECK(substitute_env("http://${HOST}:8123", env, error) == "http://ch1:8123");
    CHECK(substitute_env("${MISSING:-fallback}", env, error) == "fallback");
    CHECK(substitute_env("${EMPTY:-fallback}", env, error) == "fallback");
    CHECK(substitute_env("${HOST:-fallback}", env, error) == "ch1");
    CHECK(substitute_env("${MISSING:-}", env, error) == "");
    CHECK(substitute_env("cost $$5", env, error) == "cost $5");
    CHECK(substitute_env("plain $HOST", env, error) == "plain $HOST");
}

TEST_CASE("a missing variable without a default is an error naming it") {
    std::string error;
    CHECK_FALSE(substitute_env("${CLICKHOUSE_PASSWORD}", fake_env({}), error).has_value());
    CHECK_THAT(error, Catch::Contains("CLICKHOUSE_PASSWORD is not set"));
    CHECK_FALSE(substitute_env("${UNCLOSED", fake_env({}), error).has_value());
    CHECK_THAT(error, Catch::Contains("unterminated"));
    CHECK_FALSE(substitute_env("${1BAD}", fake_env({}), error).has_value());
    CHECK_THAT(error, Catch::Contains("bad environment variable name"));
}
