#include <catch2/catch.hpp>
#include <fstream>

#include "config/ConfigDiff.hpp"
#include "config/ConfigLoader.hpp"
#include "config/ConfigPrinter.hpp"
#include "util/Sha256.hpp"

using namespace chgate;
using namespace chgate::config;
using namespace std::chrono_literals;

namespace {

EnvLookup no_env() {
    return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

LoadedConfig load(const std::string& yaml) {
    return load_config_text(yaml, "test.yaml", no_env());
}

// The message a bad configuration produces.
std::string error_of(const std::string& yaml) {
    try {
        load(yaml);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("an empty mapping gives the documented defaults") {
    const auto c = load("{}").config;
    CHECK(c->server.listen == "127.0.0.1:8080");
    CHECK(c->server.max_body_size == 16 * kMiB);
    CHECK(c->clickhouse.urls == std::vector<std::string>{"http://127.0.0.1:8123"});
    CHECK(c->clickhouse.max_concurrent_inserts == 4);
    CHECK(c->batching.enabled);
    CHECK(c->batching.max_memory == 512 * kMiB);
    CHECK(c->batching.unknown_tables == UnknownTables::reject);
    CHECK(c->batching.defaults.strategy == StrategyKind::hybrid);
    CHECK(c->batching.defaults.max_batch_size == 1000);
    CHECK(c->batching.defaults.max_batch_time == 2s);
    CHECK(c->batching.defaults.compression == Compression::gzip);
}

TEST_CASE("the shipped config/chgate.yaml loads with the batching design's values") {
    std::ifstream in(CHGATE_SOURCE_DIR "/config/chgate.yaml");
    REQUIRE(in);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto c = load_config_text(text, "chgate.yaml", no_env()).config;
    const auto& t = c->batching.tables;
    REQUIRE(t.size() == 4);
    CHECK(t.at("events").strategy == StrategyKind::hybrid);
    CHECK(t.at("events").max_batch_size == 1000);
    CHECK(t.at("events").max_batch_time == 2s);
    CHECK(t.at("events").max_memory == 10 * kMiB);
    CHECK(t.at("events").priority == 3);
    CHECK(t.at("payments").strategy == StrategyKind::immediate);
    CHECK(t.at("payments").priority == 1);
    CHECK(t.at("payments").retry_attempts == 5);
    CHECK(t.at("mthreads").strategy == StrategyKind::time);
    CHECK(t.at("mthreads").max_batch_size == 100);
    CHECK(t.at("mthreads").max_batch_time == 5s);
    CHECK(t.at("mthreads").priority == 2);
    CHECK(t.at("mstore").max_batch_size == 500);
    CHECK(t.at("mstore").max_batch_time == 3s);
    CHECK(c->clickhouse.urls == std::vector<std::string>{"http://127.0.0.1:8123"});
    CHECK(c->clickhouse.settings.at("date_time_input_format") == "best_effort");
}

TEST_CASE("the cluster example shards two tables itself and sends two through Distributed") {
    std::ifstream in(CHGATE_SOURCE_DIR "/config/examples/cluster.yaml");
    REQUIRE(in);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto c = load_config_text(text, "cluster.yaml", no_env()).config;
    const auto& t = c->batching.tables;
    REQUIRE(t.size() == 4);
    for (const auto* name : {"events", "payments"}) {
        INFO(name);
        REQUIRE(t.at(name).shard_by);
        CHECK(core::to_string(*t.at(name).shard_by) == "cityHash64(user_id)");
        CHECK(t.at(name).local_table == std::string(name) + "_local");
    }
    CHECK(t.at("mthreads").distributed);
    CHECK(t.at("mstore").distributed);
    CHECK(t.at("payments").ack == AckLevel::committed);
    REQUIRE(c->clickhouse.shards.size() == 2);
    CHECK(c->clickhouse.shards[1].replicas ==
          std::vector<std::string>{"http://127.0.0.1:8125", "http://127.0.0.1:8126"});
    CHECK(c->clickhouse.urls.size() == 4);  // tables without shard_by: any server
}

TEST_CASE("tables inherit the defaults block then presets then their own keys") {
    const auto c = load(R"(
batching:
  defaults: {max_batch_size: 200, priority: 4, compression: zstd}
  tables:
    a: {}
    b: {strategy: mega_batch}
    c: {strategy: mega_batch, max_batch_size: 7000}
    d: {strategy: low_latency}
    e: {strategy: fixed_size}
    f: {strategy: adaptive_size, min_batch_size: 20, max_batch_size: 40000, target_latency: 250ms}
    analytics.g: {strategy: time_window, max_batch_time: 1s}
)")
                       .config;
    const auto& t = c->batching.tables;
    CHECK(t.at("a").max_batch_size == 200);
    CHECK(t.at("a").priority == 4);
    CHECK(t.at("a").compression == Compression::zstd);
    CHECK(t.at("b").strategy == StrategyKind::hybrid);
    CHECK(t.at("b").strategy_name == "mega_batch");
    CHECK(t.at("b").max_batch_size == 50000);
    CHECK(t.at("b").max_batch_time == 5s);
    CHECK(t.at("b").priority == 4);
    CHECK(t.at("c").max_batch_size == 7000);
    CHECK(t.at("d").max_batch_size == 5);
    CHECK(t.at("d").max_batch_time == 10ms);
    CHECK(t.at("e").strategy == StrategyKind::size);
    CHECK(t.at("f").strategy == StrategyKind::adaptive);
    CHECK(t.at("f").target_latency == 250ms);
    CHECK(t.at("analytics.g").strategy == StrategyKind::time);
}

TEST_CASE("environment variables fill values") {
    const auto env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "PW") return "s3cret";
        return std::nullopt;
    };
    const auto c = load_config_text(R"(
clickhouse:
  url: "${CH_URL:-http://db:8123/}"
  password: "${PW}"
)",
                                    "t.yaml", env)
                       .config;
    CHECK(c->clickhouse.urls ==
          std::vector<std::string>{"http://db:8123"});  // trailing slash dropped
    CHECK(c->clickhouse.password == "s3cret");
    CHECK_THAT(error_of("clickhouse: {password: \"${NOPE}\"}"),
               Catch::Contains("test.yaml:1: clickhouse.password: environment variable NOPE"));
}

TEST_CASE("every validation error names the file line and path") {
    using Catch::Contains;
    CHECK_THAT(error_of("batching:\n  tables:\n    events: {max_batch_sise: 5}\n"),
               Contains("test.yaml:3: batching.tables.events.max_batch_sise: unknown key (did "
                        "you mean max_batch_size?)"));
    CHECK_THAT(error_of("servr: {}\n"),
               Contains("test.yaml:1: servr: unknown key (did you mean server?)"));
    CHECK_THAT(error_of("server: {threads: 1000}"),
               Contains("server.threads: must be between 0 and 256"));
    CHECK_THAT(error_of("server: {threads: many}"), Contains("is not a whole number"));
    CHECK_THAT(error_of("server: {listen: 8080}"),
               Contains("server.listen: \"8080\" must be host:port"));
    CHECK_THAT(error_of("server: {listen: \"localhost:8080\"}"), Contains("is not an IP address"));
    CHECK_THAT(error_of("server: {listen: \"0.0.0.0:99999\"}"), Contains("is not a port number"));
    CHECK_THAT(error_of("server: {max_body_size: 10 megs}"), Contains("is not a size"));
    CHECK_THAT(error_of("server: {max_body_size: 10}"), Contains("between 1KiB and 1GiB"));
    CHECK_THAT(error_of("server: {idle_timeout: 5}"), Contains("is not a duration"));
    CHECK_THAT(error_of("clickhouse: {url: \"tcp://x:9000\"}"),
               Contains("must start with http://"));
    CHECK_THAT(error_of("clickhouse: {url: \"http://x:8123/?a=1\"}"),
               Contains("must not carry a query string"));
    CHECK_THAT(error_of("clickhouse: {database: \"my-db\"}"),
               Contains("is not a plain identifier"));
    CHECK_THAT(error_of("clickhouse: {max_concurrent_inserts: 0}"), Contains("between 1 and 64"));
    CHECK_THAT(error_of("clickhouse: {timeout: 10ms}"), Contains("at least 100ms"));
    CHECK_THAT(error_of("clickhouse: {settings: {query: x}}"), Contains("set by chgate itself"));
    CHECK_THAT(error_of("clickhouse: {settings: {\"bad-name\": 1}}"),
               Contains("is not a ClickHouse setting name"));
    CHECK_THAT(error_of("clickhouse: {settings: {a: [1, 2]}}"), Contains("must be a single value"));
    CHECK_THAT(error_of("batching: {enabled: maybe}"), Contains("is not true or false"));
    CHECK_THAT(error_of("batching: {unknown_tables: allow}"),
               Contains("is not one of: reject, defaults"));
    CHECK_THAT(error_of("batching: {max_memory: 100KiB}"), Contains("at least 1MiB"));
    CHECK_THAT(error_of("batching: {tables: {\"my-table\": {}}}"), Contains("is not a table name"));
    CHECK_THAT(error_of("batching: {tables: {events: {}, default.events: {}}}"),
               Contains("names the same table as another entry (default.events)"));
    CHECK_THAT(error_of("batching: {tables: {t: {strategy: turbo}}}"),
               Contains("\"turbo\" is not a strategy"));
    CHECK_THAT(error_of("batching: {tables: {t: {max_batch_size: 0}}}"),
               Contains("between 1 and 10000000"));
    CHECK_THAT(error_of("batching: {tables: {t: {priority: 0}}}"), Contains("between 1 and 10"));
    CHECK_THAT(error_of("batching: {tables: {t: {compression: lz4}}}"),
               Contains("is not one of: gzip, zstd, none"));
    CHECK_THAT(error_of("batching: {tables: {t: {retry_attempts: -1}}}"),
               Contains("between 0 and 100"));
    CHECK_THAT(
        error_of("batching: {tables: {t: {max_batch_time: 0}}}"),
        Contains("batching.tables.t.max_batch_time: must be at least 1ms for strategy hybrid"));
    CHECK_THAT(error_of("batching: {tables: {t: {max_batch_time: 1m, max_age: 10s}}}"),
               Contains("max_age: (10s) must be at least max_batch_time (1m)"));
    CHECK_THAT(error_of("batching: {tables: {t: {max_memory: 1KiB}}}"), Contains("at least 4KiB"));
    CHECK_THAT(error_of("batching: {max_memory: 8MiB, tables: {t: {max_memory: 16MiB}}}"),
               Contains("(16MiB) is more than batching.max_memory (8MiB)"));
    CHECK_THAT(error_of("batching: {tables: {t: {strategy: adaptive, min_batch_size: 5000, "
                        "max_batch_size: 100}}}"),
               Contains("min_batch_size: (5000) is more than max_batch_size (100)"));
    CHECK_THAT(error_of("log: {level: verbose}"),
               Contains("is not one of: debug, info, warn, error"));
    CHECK_THAT(error_of("server: [1, 2]"), Contains("server: must be a mapping"));
    CHECK_THAT(error_of(""), Contains("the file is empty"));
    CHECK_THAT(error_of("server: {listen: [}"), Contains("YAML syntax error"));
}

TEST_CASE("a small gateway budget shrinks the built-in table quota instead of failing") {
    const auto c = load("batching: {max_memory: 4MiB, tables: {t: {}}}").config;
    CHECK(c->batching.tables.at("t").max_memory == 4 * kMiB);
}

TEST_CASE("keys a strategy ignores are warnings not errors") {
    const auto loaded = load("batching: {tables: {p: {strategy: immediate, max_batch_size: 10}}}");
    REQUIRE(loaded.warnings.size() == 1);
    CHECK_THAT(loaded.warnings[0], Catch::Contains("batching.tables.p.max_batch_size: strategy "
                                                   "immediate does not use this key"));
}

TEST_CASE("immediate tables need no batch time") {
    const auto c = load("batching: {tables: {p: {strategy: immediate, max_batch_time: 0}}}").config;
    CHECK(c->batching.tables.at("p").strategy == StrategyKind::immediate);
}

TEST_CASE("a missing file is a clear error") {
    CHECK_THROWS_WITH(load_config_file("/nonexistent/chgate.yaml"),
                      Catch::Contains("cannot open the configuration file"));
}

TEST_CASE("the effective config loads back to the same values") {
    const auto first = load(R"(
server: {listen: "127.0.0.1:9000", threads: 3}
clickhouse: {settings: {date_time_input_format: best_effort, insert_quorum: true}}
batching:
  tables:
    events: {strategy: adaptive, min_batch_size: 50, max_batch_size: 5000, target_latency: 200ms}
    payments: {strategy: immediate, priority: 1}
)")
                           .config;
    const auto printed = print_effective_config(*first);
    const auto second = load(printed).config;
    CHECK(print_effective_config(*second) == printed);
    CHECK(second->clickhouse.settings.at("insert_quorum") == "1");
    CHECK(second->batching.tables.at("events").target_latency == 200ms);
}

TEST_CASE("max_age follows max_batch_time unless set") {
    const auto c = load(R"(
batching:
  defaults: {max_batch_time: 2s}
  tables:
    a: {}
    b: {max_batch_time: 1m}
    c: {max_batch_time: 1m, max_age: 5m}
    d: {max_age: auto, max_batch_time: 45s}
)")
                       .config;
    const auto& t = c->batching.tables;
    CHECK(t.at("a").max_age == 30s);
    CHECK(t.at("b").max_age == 1min);
    CHECK(t.at("c").max_age == 5min);
    CHECK(t.at("d").max_age == 45s);
    CHECK(c->batching.defaults.max_age == 0s);  // still "auto", for tables made on the fly
    CHECK_THAT(print_effective_config(*c), Catch::Contains("max_age: auto"));
    CHECK_THAT(error_of("batching: {tables: {t: {max_age: 0s}}}"),
               Catch::Contains("at least 1ms, or auto"));
}

TEST_CASE("failure strategies error classes retry timing and the admin token") {
    const auto c = load(R"(
clickhouse:
  error_classes: {252: hold, 27: retry}
  retry: {initial: 100ms, max: 5s, multiplier: 3}
admin: {token: "abcdefghijklmnopq"}
batching:
  tables:
    a: {failure_strategy: SendToDLQ}
    b: {failure_strategy: LogAndContinue, ack: committed}
    c: {}
)")
                       .config;
    CHECK(c->clickhouse.error_classes.at(252) == ErrorAction::hold);
    CHECK(c->clickhouse.error_classes.at(27) == ErrorAction::retry);
    CHECK(c->clickhouse.retry_initial == 100ms);
    CHECK(c->clickhouse.retry_max == 5s);
    CHECK(c->clickhouse.retry_multiplier == 3.0);
    CHECK(c->admin.token == chgate::sha256("abcdefghijklmnopq"));
    CHECK(c->batching.tables.at("a").failure_strategy == FailureStrategy::send_to_dlq);
    CHECK(c->batching.tables.at("b").failure_strategy == FailureStrategy::log_and_continue);
    CHECK(c->batching.tables.at("b").ack == AckLevel::committed);
    CHECK(c->batching.tables.at("c").failure_strategy == FailureStrategy::retry_with_backoff);
    CHECK(c->batching.tables.at("c").ack == AckLevel::durable);
    CHECK_THAT(print_effective_config(*c), Catch::Contains("token: \"********\""));
    using Catch::Contains;
    CHECK_THAT(error_of("clickhouse: {error_classes: {abc: retry}}"),
               Contains("is not a ClickHouse error code"));
    CHECK_THAT(error_of("clickhouse: {error_classes: {27: ignore}}"),
               Contains("is not one of: retry, quarantine, reject, hold"));
    CHECK_THAT(error_of("clickhouse: {retry: {initial: 10s, max: 1s}}"),
               Contains("must be at least retry.initial"));
    CHECK_THAT(error_of("clickhouse: {retry: {multiplier: 0.5}}"), Contains("between 1 and 10"));
    CHECK_THAT(error_of("batching: {tables: {t: {failure_strategy: Ignore}}}"),
               Contains("is not one of: RetryWithBackoff"));
    CHECK_THAT(error_of("batching: {tables: {t: {ack: eventually}}}"),
               Contains("is not one of: buffered, durable, committed"));
    CHECK_THAT(error_of("storage: {fsync: sometimes}"),
               Contains("is not one of: always, interval, never"));
    CHECK_THAT(error_of("storage: {dir: \"\"}"), Contains("must not be empty"));
    CHECK_THAT(error_of("admin: {password: x}"), Contains("admin.password: unknown key"));
}

TEST_CASE("readiness and hold probing") {
    const auto c =
        load("clickhouse: {hold_probe_interval: 3s}\nreadiness: {held_tables: false, max_lag: 0}\n")
            .config;
    CHECK(c->clickhouse.hold_probe_interval == 3s);
    CHECK_FALSE(c->readiness.held_tables);
    CHECK(c->readiness.max_lag == 0s);
    CHECK(load("{}").config->readiness.max_lag == 5min);
    CHECK_THAT(error_of("readiness: {max_lag: soon}"), Catch::Contains("readiness.max_lag"));
    CHECK_THAT(error_of("clickhouse: {hold_probe_interval: 1ms}"),
               Catch::Contains("at least 100ms"));
}

TEST_CASE("the disk quota the spool rate and the spool readiness threshold") {
    const auto c = load(
                       "storage: {max_disk: 2GiB, spool_replay_rate: 4MiB}\nreadiness: "
                       "{max_spool_bytes: 100MiB}\n")
                       .config;
    CHECK(c->storage.max_disk == 2ULL * 1024 * kMiB);
    CHECK(c->storage.spool_replay_rate == 4 * kMiB);
    CHECK(c->readiness.max_spool_bytes == 100 * kMiB);
    CHECK(load("{}").config->storage.max_disk == 10ULL * 1024 * kMiB);
    CHECK(load("storage: {max_disk: 0}").config->storage.max_disk == 0);
    CHECK_THAT(error_of("storage: {spool_replay_rate: 1KiB}"), Catch::Contains("at least 64KiB"));
}

TEST_CASE("log preallocation is on by default and at most a segment") {
    CHECK(load("{}").config->storage.preallocate == kMiB);
    CHECK(load("storage: {preallocate: 0}").config->storage.preallocate == 0);
    CHECK(load("storage: {preallocate: 4MiB}").config->storage.preallocate == 4 * kMiB);
    CHECK_THAT(error_of("storage: {preallocate: 32MiB}"),
               Catch::Contains("storage.preallocate") && Catch::Contains("16MiB"));
    CHECK(load("storage: {preallocate: 32MiB, segment_size: 64MiB}").config->storage.preallocate ==
          32 * kMiB);
}

TEST_CASE("idempotency settings") {
    const auto c = load("server: {idempotency_window: 1h, idempotency_max_keys: 500}\n").config;
    CHECK(c->server.idempotency_window == 1h);
    CHECK(c->server.idempotency_max_keys == 500);
    CHECK_THAT(error_of("server: {idempotency_max_keys: 0}"), Catch::Contains("between 1 and"));
}

TEST_CASE("replicas and their circuit breakers") {
    const auto c = load(
                       "clickhouse: {urls: [\"http://ch1:8123/\", \"https://ch2:8443\"], "
                       "circuit_breaker: {failures: 3, cooldown: 5s}}\n")
                       .config;
    CHECK(c->clickhouse.urls == std::vector<std::string>{"http://ch1:8123", "https://ch2:8443"});
    CHECK(c->clickhouse.breaker_failures == 3);
    CHECK(c->clickhouse.breaker_cooldown == 5s);
    CHECK(load("clickhouse: {url: \"http://x:1\"}").config->clickhouse.urls ==
          std::vector<std::string>{"http://x:1"});
    CHECK(load("{}").config->clickhouse.urls == std::vector<std::string>{"http://127.0.0.1:8123"});
    using Catch::Contains;
    CHECK_THAT(error_of("clickhouse: {url: \"http://a:1\", urls: [\"http://b:1\"]}"),
               Contains("not both"));
    CHECK_THAT(error_of("clickhouse: {urls: []}"), Contains("one or more URLs"));
    CHECK_THAT(error_of("clickhouse: {urls: [\"http://a:1\", \"ftp://b\"]}"),
               Contains("clickhouse.urls[1]: \"ftp://b\" must start with http://"));
    CHECK_THAT(error_of("clickhouse: {circuit_breaker: {failures: 0}}"),
               Contains("between 1 and 1000"));
    const auto printed = print_effective_config(*c);
    CHECK_THAT(printed, Contains("urls:"));
    CHECK(print_effective_config(*load(printed).config) == printed);
}

TEST_CASE("credentials written into clickhouse.url move to user and password, out of the URL") {
    const auto c = load("clickhouse: {url: \"http://alice:s%40cret@ch.internal:8123/\"}").config;
    CHECK(c->clickhouse.urls == std::vector<std::string>{"http://ch.internal:8123"});
    CHECK(c->clickhouse.user == "alice");
    CHECK(c->clickhouse.password == "s@cret");
    const auto printed = print_effective_config(*c);
    CHECK(printed.find("s@cret") == std::string::npos);
    CHECK(printed.find("s%40cret") == std::string::npos);
    CHECK(printed.find("alice:") == std::string::npos);
}

TEST_CASE("credentials in a URL and in clickhouse.user are refused, without quoting them") {
    const auto e =
        error_of("clickhouse: {url: \"http://bob:hunter2@ch:8123\", user: bob, password: x}");
    CHECK(e.find("in one place") != std::string::npos);
    CHECK(e.find("hunter2") == std::string::npos);
    const auto two =
        error_of("clickhouse: {urls: [\"http://a:one@ch1:8123\", \"http://a:two@ch2:8123\"]}");
    CHECK(two.find("other credentials") != std::string::npos);
    CHECK(two.find("one") == std::string::npos);
    const auto bad = error_of("clickhouse: {url: \"http://carol:pw@ch:8123/?x=1\"}");
    CHECK(bad.find("query string") != std::string::npos);
    CHECK(bad.find("pw") == std::string::npos);
}

TEST_CASE("log.rate_limit is read and printed") {
    const auto c = load("log: {rate_limit: {lines: 5, interval: 30s}}").config;
    CHECK(c->log.rate_limit_lines == 5);
    CHECK(c->log.rate_limit_interval == 30s);
    CHECK(load("{}").config->log.rate_limit_lines == 20);
    CHECK(error_of("log: {rate_limit: {interval: 1ms}}").find("at least 100ms") !=
          std::string::npos);
}

TEST_CASE("a key that is a list or mapping is a config error, not a crash") {
    // Found by fuzz_config: yaml-cpp throws its own exception for such keys.
    CHECK_THAT(error_of("? [a, b]\n: 1\n"), Catch::Contains("not a name"));
    CHECK_THAT(error_of("auth:\n  ? {tokens: 1}\n  : []\n"), Catch::Contains("auth"));
    CHECK_THAT(error_of("batching: {tables: {[a]: {}}}"), Catch::Contains("batching.tables"));
    CHECK_THAT(error_of("clickhouse: {settings: {[x]: 1}}"), Catch::Contains("not a name"));
}

TEST_CASE("clickhouse.cluster lists shards with weights; tables without shard_by use them all") {
    const auto c = load(R"y(
clickhouse:
  cluster:
    shards:
      - {weight: 2, replicas: ["http://a:8123", "http://b:8123/"]}
      - {replicas: ["http://c:8123"]}
batching:
  tables:
    events: {shard_by: "cityHash64(user_id)", local_table: events_local}
    audit: {distributed: true}
)y")
                       .config;
    REQUIRE(c->clickhouse.shards.size() == 2);
    CHECK(c->clickhouse.shards[0].weight == 2);
    CHECK(c->clickhouse.shards[0].replicas ==
          std::vector<std::string>{"http://a:8123", "http://b:8123"});
    CHECK(c->clickhouse.shards[1].weight == 1);
    CHECK(c->clickhouse.urls ==
          std::vector<std::string>{"http://a:8123", "http://b:8123", "http://c:8123"});
    const auto& events = c->batching.tables.at("events");
    REQUIRE(events.shard_by);
    CHECK(events.shard_by->kind == core::ShardBy::Kind::city_hash);
    CHECK(events.shard_by->field == "user_id");
    CHECK(events.local_table == "events_local");
    CHECK_FALSE(c->batching.tables.at("audit").shard_by);
    // The printed file loads back to the same cluster and tables.
    const auto printed = print_effective_config(*c);
    CHECK(print_effective_config(*load(printed).config) == printed);

    // url or urls, when given, are where tables without shard_by go.
    const auto d = load(R"(
clickhouse:
  url: http://lb:8123
  cluster: {shards: [{replicas: ["http://a:8123"]}]}
)")
                       .config;
    CHECK(d->clickhouse.urls == std::vector<std::string>{"http://lb:8123"});
}

TEST_CASE("a cluster or a sharded table that cannot work is refused at load") {
    using Catch::Contains;
    CHECK_THAT(error_of("clickhouse: {cluster: {shards: []}}"),
               Contains("clickhouse.cluster.shards: must be a list of one or more shards"));
    CHECK_THAT(error_of("clickhouse: {cluster: {shards: [{weight: 1}]}}"),
               Contains("clickhouse.cluster.shards[0].replicas: must be a list"));
    CHECK_THAT(error_of("clickhouse: {cluster: {shards: [{weight: 0, replicas: [\"http://a\"]}]}}"),
               Contains("needs a shard with a weight above 0"));
    CHECK_THAT(error_of("clickhouse: {cluster: {shards: [{replicas: [\"http://a\"]}, "
                        "{replicas: [\"http://a/\"]}]}}"),
               Contains("clickhouse.cluster.shards[1].replicas[0]: \"http://a\" is listed twice"));
    CHECK_THAT(error_of("clickhouse: {cluster: {shards: [{replicas: [\"http://a\"], wieght: 2}]}}"),
               Contains("wieght"));
    CHECK_THAT(error_of("clickhouse: {cluster: {shards: [{replicas: [\"http://u:p@a\", "
                        "\"http://v:q@b\"]}]}}"),
               Contains("names other credentials"));
    CHECK_THAT(error_of("batching: {tables: {e: {shard_by: \"cityHash64(k)\", "
                        "local_table: e_local}}}"),
               Contains("batching.tables.e.shard_by: needs clickhouse.cluster.shards"));
    const std::string cluster = "clickhouse: {cluster: {shards: [{replicas: [\"http://a\"]}]}}\n";
    CHECK_THAT(error_of(cluster + "batching: {tables: {e: {shard_by: \"cityHash64(k)\"}}}"),
               Contains("batching.tables.e.local_table: is needed with shard_by"));
    CHECK_THAT(error_of(cluster + "batching: {tables: {e: {local_table: e_local}}}"),
               Contains("batching.tables.e.shard_by: is needed with local_table"));
    CHECK_THAT(error_of(cluster + "batching: {tables: {e: {shard_by: \"k\", local_table: l, "
                                  "distributed: true}}}"),
               Contains("exclude each other"));
    CHECK_THAT(error_of(cluster + "batching: {tables: {e: {shard_by: \"sipHash64(k)\", "
                                  "local_table: l}}}"),
               Contains("batching.tables.e.shard_by"));
    CHECK_THAT(
        error_of(cluster + "batching: {tables: {e: {shard_by: k, local_table: \"l;drop\"}}}"),
        Contains("is not a plain identifier"));
    CHECK_THAT(error_of(cluster + "batching: {defaults: {shard_by: k, local_table: l}}"),
               Contains("batching.defaults: cannot give shard_by or local_table"));
}

TEST_CASE("discover without shards reads them from the servers in url or urls") {
    const auto c = load(R"y(
clickhouse:
  urls: ["http://seed1:8123", "http://seed2:8123"]
  cluster:
    name: events_cluster
    discover: true
    http_port: 8124
    http_ports: {9001: 8125, 9002: 8126}
batching:
  tables:
    events: {shard_by: "cityHash64(user_id)", local_table: events_local}
)y")
                       .config;
    CHECK(c->clickhouse.shards.empty());
    CHECK_FALSE(c->clickhouse.urls_from_cluster);
    CHECK(c->clickhouse.http_port == 8124);
    CHECK(c->clickhouse.http_ports ==
          std::map<std::uint16_t, std::uint16_t>{{9001, 8125}, {9002, 8126}});
    const auto printed = print_effective_config(*c);
    CHECK_THAT(printed, Catch::Contains("http_ports"));
    CHECK(print_effective_config(*load(printed).config) == printed);
}

TEST_CASE("a reload applies a new list of shards; how the cluster is found waits for a restart") {
    const std::string before = R"y(
clickhouse:
  cluster: {name: c, shards: [{replicas: ["http://a:8123"]}]}
)y";
    const auto a = load(before).config;
    const auto more = load(R"y(
clickhouse:
  cluster: {name: c, shards: [{replicas: ["http://a:8123"]}, {weight: 2, replicas: ["http://b:8123"]}]}
)y")
                          .config;
    auto changes = diff_configs(*a, *more);
    CHECK(changes.live == std::vector<std::string>{"clickhouse.cluster.shards"});
    CHECK(changes.restart.empty());
    CHECK(apply_reloadable(*a, *more).clickhouse.shards == more->clickhouse.shards);
    const auto renamed = load(R"y(
clickhouse:
  cluster: {name: d, shards: [{replicas: ["http://a:8123"]}]}
)y")
                             .config;
    changes = diff_configs(*a, *renamed);
    CHECK(changes.restart == std::vector<std::string>{"clickhouse.cluster"});
    CHECK(apply_reloadable(*a, *renamed).clickhouse.cluster_name == "c");
}

TEST_CASE("discover checks the listed shards against a named cluster") {
    using Catch::Contains;
    const auto c = load(R"y(
clickhouse:
  cluster:
    name: events_cluster
    discover: true
    shards: [{replicas: ["http://a:8123"]}]
)y")
                       .config;
    CHECK(c->clickhouse.discover);
    CHECK(c->clickhouse.cluster_name == "events_cluster");
    const auto printed = print_effective_config(*c);
    CHECK_THAT(printed, Contains("name: events_cluster"));
    CHECK(print_effective_config(*load(printed).config) == printed);
    CHECK_THAT(
        error_of("clickhouse: {cluster: {discover: true, shards: [{replicas: [\"http://a\"]}]}}"),
        Contains("clickhouse.cluster.name: is needed with discover"));
    CHECK_THAT(error_of("clickhouse: {cluster: {name: c, discover: true}}"),
               Contains("clickhouse.url: or urls is needed with discover and no shards"));
    CHECK_THAT(error_of("clickhouse: {cluster: {name: c, shards: [{replicas: [\"http://a\"]}], "
                        "http_port: 8123}}"),
               Contains("clickhouse.cluster.http_port: applies only with discover and no shards"));
    CHECK_THAT(
        error_of("clickhouse: {url: \"http://a\", cluster: {name: c, discover: true, http_ports: "
                 "{9000: 70000}}}"),
        Contains("clickhouse.cluster.http_ports.9000"));
    CHECK_THAT(
        error_of("clickhouse: {url: \"http://a\", cluster: {name: c, discover: true, http_ports: "
                 "[1]}}"),
        Contains("must map each TCP port"));
    CHECK_THAT(
        error_of(
            "clickhouse: {cluster: {name: \"c'; DROP\", shards: [{replicas: [\"http://a\"]}]}}"),
        Contains("is not a remote_servers name"));
}

TEST_CASE("a table's settings print as JSON, every default filled in") {
    const auto c = load(R"y(
batching:
  tables:
    events: {strategy: size, max_batch_size: 7}
)y")
                       .config;
    const auto j = table_config_json(c->batching.tables.at("events"));
    CHECK(j.at("max_batch_size") == 7);
    CHECK(j.at("strategy") == "size");
    CHECK(j.at("max_batch_time") == "2s");  // a duration as the YAML writes it
    CHECK(j.at("distributed") == false);
}

TEST_CASE("on_invalid and quarantine_table, with {table} for the table's name") {
    const auto c = load(R"y(
batching:
  defaults: {on_invalid: quarantine}
  tables:
    events: {}
    orders: {on_invalid: reject, quarantine_table: "bad_{table}"}
)y")
                       .config;
    const auto& events = c->batching.tables.at("events");
    CHECK(events.on_invalid == config::OnInvalid::quarantine);
    CHECK(config::quarantine_table_of(events, "events") == "events_quarantine");
    const auto& orders = c->batching.tables.at("orders");
    CHECK(orders.on_invalid == config::OnInvalid::reject);
    CHECK(config::quarantine_table_of(orders, "orders") == "bad_orders");
    CHECK_THAT(error_of("batching: {tables: {t: {quarantine_table: \"bad-{table}\"}}}"),
               Catch::Contains("is not a table name"));
    CHECK_THAT(error_of("batching: {tables: {t: {on_invalid: drop}}}"),
               Catch::Contains("on_invalid"));
}

TEST_CASE("create: declares a table's columns, in order, with its engine and keys") {
    const auto c = load(R"y(
batching:
  tables:
    runs:
      create:
        columns: {run_id: String, ts: "DateTime", kind: "Enum8('a' = 1, 'b' = 2)"}
        engine: "ReplacingMergeTree()"
        order_by: "(run_id, ts)"
        partition_by: "toYYYYMM(ts)"
    plain: {}
)y")
                       .config;
    const auto& create = c->batching.tables.at("runs").create;
    REQUIRE(create);
    CHECK(create->columns ==
          std::vector<std::pair<std::string, std::string>>{
              {"run_id", "String"}, {"ts", "DateTime"}, {"kind", "Enum8('a' = 1, 'b' = 2)"}});
    CHECK(create->engine == "ReplacingMergeTree()");
    CHECK(create->order_by == "(run_id, ts)");
    CHECK(create->partition_by == "toYYYYMM(ts)");
    CHECK_FALSE(c->batching.tables.at("plain").create);
    CHECK_THAT(error_of("batching: {tables: {t: {create: {columns: {}}}}}"),
               Catch::Contains("must map each column"));
    CHECK_THAT(error_of("batching: {tables: {t: {create: {columns: {\"a b\": String}}}}}"),
               Catch::Contains("not a plain identifier"));
    CHECK_THAT(
        error_of("batching: {tables: {t: {create: {columns: {a: \"String; DROP TABLE x\"}}}}}"),
        Catch::Contains("without ;"));
    CHECK_THAT(error_of("batching: {tables: {t: {create: {columns: {a: String}, ttl: 1}}}}"),
               Catch::Contains("ttl"));
}

TEST_CASE("schema_evolution: add_columns, its limits, and what it cannot go with") {
    const auto c = load(R"y(
batching:
  defaults: {schema_evolution: add_columns}
  tables:
    events: {max_columns: 50, new_column_pattern: "app_[a-z]+", max_alters_per_minute: 3}
    plain: {schema_evolution: "off"}
)y")
                       .config;
    const auto& events = c->batching.tables.at("events");
    CHECK(events.schema_evolution == config::SchemaEvolution::add_columns);
    CHECK(events.max_columns == 50);
    CHECK(events.new_column_pattern == "app_[a-z]+");
    CHECK(events.max_alters_per_minute == 3);
    const auto& plain = c->batching.tables.at("plain");
    CHECK(plain.schema_evolution == config::SchemaEvolution::off);
    CHECK(plain.new_column_pattern == config::kDefaultNewColumnPattern);
    CHECK_THAT(
        error_of("batching: {tables: {t: {schema_evolution: add_columns, schema: \"off\"}}}"),
        Catch::Contains("needs schema: check or coerce"));
    CHECK_THAT(error_of("batching: {tables: {t: {schema_evolution: add_columns, "
                        "unknown_fields: ignore}}}"),
               Catch::Contains("exclude each other"));
    CHECK_THAT(error_of("batching: {tables: {t: {schema_evolution: add_columns, "
                        "distributed: true}}}"),
               Catch::Contains("Distributed"));
    CHECK_THAT(error_of("batching: {tables: {t: {new_column_pattern: \"[a-\"}}}"),
               Catch::Contains("is not a regular expression"));
    CHECK_THAT(error_of("batching: {tables: {t: {max_alters_per_minute: 0}}}"),
               Catch::Contains("max_alters_per_minute"));
}

TEST_CASE("log.format is text by default, json or logfmt when asked, and nothing else") {
    CHECK(load("{}").config->log.format == LogFormat::text);
    CHECK(load("log: {format: json}").config->log.format == LogFormat::json);
    CHECK(load("log: {format: logfmt}").config->log.format == LogFormat::logfmt);
    CHECK_THAT(error_of("log: {format: xml}"),
               Catch::Contains("log.format") && Catch::Contains("text, json, logfmt"));
}
