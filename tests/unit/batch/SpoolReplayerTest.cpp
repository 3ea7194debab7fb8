#include <unistd.h>

#include <catch2/catch.hpp>

#include "batch/BatchManager.hpp"
#include "batch/SpoolReplayer.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "config/ConfigLoader.hpp"
#include "flush/FlushQueue.hpp"
#include "store/Spool.hpp"

using namespace chgate;

namespace {

struct Fixture {
    explicit Fixture(const std::string& yaml)
        : dir(std::filesystem::temp_directory_path() /
              ("chgate-spool-replay-" + std::to_string(::getpid()))),
          config(config::load_config_text(
                     yaml, "test.yaml",
                     [](const std::string&) { return std::optional<std::string>(); })
                     .config),
          budget(config->batching.max_memory),
          rate(Clock::now()),
          manager(config, queue, budget, rate),
          replicas(config->clickhouse),
          spool((std::filesystem::remove_all(dir), dir)),
          replayer(spool, manager, queue, replicas, 16 << 20) {}
    ~Fixture() { std::filesystem::remove_all(dir); }

    /// Spools `n` batches of `table`, each of `bytes` bytes of rows.
    void put(const std::string& table, int n, std::size_t bytes) {
        for (int i = 0; i < n; ++i) {
            std::string rows = "{\"s\":\"" + std::string(bytes - 9, 'x') + "\"}\n";
            REQUIRE(rows.size() == bytes);
            store::SpoolEntry entry;
            std::string error;
            REQUIRE(spool.put({"default", table, {}}, ++id, rows, 1, error, entry));
            spool.unload(entry.path);  // as after a restart: on disk only
        }
    }
    /// Takes every batch out of the queue: how many of each table.
    std::map<std::string, int> taken() {
        std::map<std::string, int> out;
        for (auto& b : queue.take_all()) {
            ++out[b.owner->target().files.table];
            b.owner->on_released(b);
        }
        return out;
    }

    std::filesystem::path dir;
    config::ConfigPtr config;
    flush::FlushQueue queue;
    batch::MemoryBudget budget;
    core::RateWindow rate;
    batch::BatchManager manager;
    clickhouse::Topology replicas;
    store::Spool spool;
    batch::SpoolReplayer replayer;
    std::uint64_t id = 0;
};

}  // namespace

TEST_CASE("a spool replay round loads batches up to its byte budget, not one per table") {
    Fixture f("batching: {tables: {t: {max_memory: 1MiB}}}");
    f.put("t", 30, 1000);
    CHECK(f.replayer.round(16 << 20) == 30 * 1000);
    CHECK(f.taken() == std::map<std::string, int>{{"t", 30}});
    CHECK(f.spool.oldest_per_target().empty());  // every batch is loaded

    f.put("t", 10, 1000);
    CHECK(f.replayer.round(2500) == 3000);  // stops once the budget is spent
    CHECK(f.taken() == std::map<std::string, int>{{"t", 3}});
}

TEST_CASE("spooled batches take turns between tables and stop at half of each table's memory") {
    Fixture f("batching: {tables: {t: {max_memory: 1MiB}, u: {max_memory: 1MiB}}}");
    f.put("t", 10, 100'000);
    f.put("u", 10, 100'000);
    CHECK(f.replayer.round(400'000) == 400'000);
    CHECK(f.taken() == std::map<std::string, int>{{"t", 2}, {"u", 2}});

    // Loaded while a table holds at most half of 1 MiB: six batches of 100 kB.
    CHECK(f.replayer.round(16 << 20) == 1'200'000);
    CHECK(f.manager.registry().route("t").buffer->table().held_bytes() == 600'000);
    CHECK(f.manager.registry().route("u").buffer->table().held_bytes() == 600'000);
    CHECK(f.replayer.round(16 << 20) == 0);
    CHECK(f.taken() == std::map<std::string, int>{{"t", 6}, {"u", 6}});
    CHECK(f.replayer.round(16 << 20) == 400'000);
}

TEST_CASE("a spooled batch larger than the table's memory now still goes through, alone") {
    Fixture f("batching: {tables: {t: {max_memory: 1MiB}}}");
    f.put("t", 2, 700'000);
    CHECK(f.replayer.round(16 << 20) == 700'000);
    CHECK(f.replayer.round(16 << 20) == 0);  // the first holds more than half
    CHECK(f.taken() == std::map<std::string, int>{{"t", 1}});
    // Spooled when the table had more memory (before a reload, say).
    f.put("t", 1, 1'500'000);
    CHECK(f.replayer.round(16 << 20) == 700'000);
    CHECK(f.replayer.round(16 << 20) == 0);
    CHECK(f.taken() == std::map<std::string, int>{{"t", 1}});
    CHECK(f.replayer.round(16 << 20) == 1'500'000);
    CHECK(f.taken() == std::map<std::string, int>{{"t", 1}});
}

TEST_CASE("an unreadable spool file is set aside and the batches behind it go on") {
    Fixture f("batching: {tables: {t: {max_memory: 1MiB}}}");
    f.put("t", 3, 1000);
    const auto oldest = f.spool.oldest_per_target().at(0).path;
    std::filesystem::remove(oldest);  // gone from under the spool
    CHECK(f.replayer.round(16 << 20) == 2000);
    CHECK(f.taken() == std::map<std::string, int>{{"t", 2}});
    CHECK(f.spool.counts()["default.t"].batches == 2);  // the lost file left the index
    CHECK(f.spool.set_aside_files() == 1);
    CHECK(f.taken().empty());

    // A file still there but empty (no header line): renamed, kept for a person.
    f.put("t", 2, 1000);
    const auto empty = f.spool.oldest_per_target().at(0).path;
    std::filesystem::resize_file(empty, 0);
    CHECK(f.replayer.round(16 << 20) == 1000);
    CHECK(f.spool.set_aside_files() == 2);
    CHECK_FALSE(std::filesystem::exists(empty));
    CHECK(std::filesystem::exists(empty.string() + ".unreadable"));
}

TEST_CASE("the replay's byte budget holds its rate for batches bigger than a tick's share") {
    batch::ReplayBucket bucket(1'000'000);  // 1 MB/s: 100 kB a tick
    bucket.fill();
    CHECK(bucket.tick() == 1'000'000);  // a second's worth saved up, no more
    bucket.spend(1'000'000);
    CHECK(bucket.tick() == 100'000);
    // A 3 MB batch goes at once; then nothing for the 2.9 s of its debt.
    bucket.spend(3'000'000);
    int idle = 0;
    while (bucket.tick() == 0)
        ++idle;
    CHECK(idle == 29);
    // Spending less than offered saves the rest, up to a second's worth.
    bucket.spend(0);
    for (int i = 0; i < 20; ++i)
        bucket.tick();
    CHECK(bucket.tick() == 1'000'000);
    // A debt is capped at ten seconds' worth, whatever was spent.
    bucket.spend(std::uint64_t{1} << 62);
    idle = 0;
    while (bucket.tick() == 0)
        ++idle;
    CHECK(idle == 100);
}
