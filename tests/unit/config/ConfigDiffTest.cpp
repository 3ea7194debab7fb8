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
