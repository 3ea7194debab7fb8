#include <catch2/catch.hpp>

#include "config/ConfigDiff.hpp"
#include "config/ConfigLoader.hpp"

using namespace chgate;
using namespace chgate::config;

namespace {
ConfigPtr load(const std::string& yaml) {
    return load_config_text(yaml, "test.yaml",
                            [](const std::string&) { return std::optional<std::string>(); })
        .config;
}
}  // namespace

TEST_CASE("a reload applies tables, defaults, max_memory and log level; the rest waits") {
    const auto before = load(R"(
server: {listen: "127.0.0.1:8080"}
clickhouse: {password: a}
batching: {max_memory: 256MiB, tables: {t: {max_batch_size: 10}, u: {}}}
log: {level: info}
)");
    const auto after = load(R"(
server: {listen: "127.0.0.1:9090"}
clickhouse: {password: b}
batching: {max_memory: 128MiB, unknown_tables: defaults, defaults: {priority: 2},
           tables: {t: {max_batch_size: 20}, v: {}}}
log: {level: debug}
)");
    const auto changes = diff_configs(*before, *after);
    CHECK_THAT(changes.live, Catch::UnorderedEquals(std::vector<std::string>{
                                 "batching.tables.t", "batching.tables.u", "batching.tables.v",
                                 "batching.defaults", "batching.max_memory", "log.level"}));
    CHECK_THAT(changes.restart,
               Catch::UnorderedEquals(std::vector<std::string>{
                   "server.listen", "clickhouse.password", "batching.unknown_tables"}));
    CHECK(diff_configs(*before, *before).live.empty());
    CHECK(diff_configs(*before, *before).restart.empty());

    const auto merged = apply_reloadable(*before, *after);
    CHECK(merged.server.listen == "127.0.0.1:8080");
    CHECK(merged.clickhouse.password == "a");
    CHECK(merged.batching.unknown_tables == UnknownTables::reject);
    CHECK(merged.batching.max_memory == 128ull << 20);
    CHECK(merged.batching.tables.at("t").max_batch_size == 20);
    CHECK(merged.batching.tables.count("u") == 0);
    CHECK(merged.batching.defaults.priority == 2);
    CHECK(merged.log.level == LogLevel::debug);
}

TEST_CASE(
    "every section's keys say whether a reload applies them, and the reload copies just those") {
    const std::string token_a = "aaaaaaaaaaaaaaaaaaaaaaaa";
    const std::string token_b = "bbbbbbbbbbbbbbbbbbbbbbbb";
    const auto before = load(R"(
clickhouse: {urls: ["http://a:8123"], retry: {initial: 1s}, settings: {x: 1}}
auth: {tokens: [{name: app, token: )" +
                             token_a + R"(}]}
admin: {allow_from: ["127.0.0.1/32"]}
storage: {fsync: always}
log: {rate_limit: {lines: 5}}
)");
    const auto after = load(R"(
clickhouse: {urls: ["http://a:8123", "http://b:8123"], retry: {initial: 2s}, settings: {x: 2}}
auth: {tokens: [{name: app, token: )" +
                            token_b + R"(}]}
admin: {allow_from: ["10.0.0.0/8"]}
storage: {fsync: never}
log: {rate_limit: {lines: 9}}
)");
    const auto changes = diff_configs(*before, *after);
    CHECK_THAT(changes.live, Catch::UnorderedEquals(std::vector<std::string>{
                                 "auth.tokens", "admin.allow_from", "log.rate_limit.lines"}));
    CHECK_THAT(changes.restart, Catch::UnorderedEquals(std::vector<std::string>{
                                    "clickhouse.urls", "clickhouse.retry.initial",
                                    "clickhouse.settings", "storage.fsync"}));

    const auto merged = apply_reloadable(*before, *after);
    CHECK(merged.auth.tokens == after->auth.tokens);
    CHECK(merged.admin.allow_from == after->admin.allow_from);
    CHECK(merged.log.rate_limit_lines == 9);
    CHECK(merged.clickhouse.urls == before->clickhouse.urls);
    CHECK(merged.clickhouse.retry_initial == before->clickhouse.retry_initial);
    CHECK(merged.clickhouse.settings == before->clickhouse.settings);
    CHECK(merged.storage.fsync == FsyncMode::always);
}

TEST_CASE("a changed secret is a change, though the printer masks it") {
    const auto a = load("clickhouse: {password: one}\nmetrics: {token: aaaaaaaaaaaaaaaaaaaa}");
    const auto b = load("clickhouse: {password: two}\nmetrics: {token: bbbbbbbbbbbbbbbbbbbb}");
    const auto changes = diff_configs(*a, *b);
    CHECK(changes.live == std::vector<std::string>{"metrics.token"});
    CHECK(changes.restart == std::vector<std::string>{"clickhouse.password"});
}
