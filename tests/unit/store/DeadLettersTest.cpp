#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "store/DeadLetters.hpp"
#include "support/TempDir.hpp"

using namespace chgate;
using namespace chgate::store;

namespace {
const LogTarget kTarget{"default", "events", {}};
}

TEST_CASE("dead letters count in the disk total and stop at storage.max_disk") {
    test::TempDir dir("chgate-dead");
    std::atomic<std::uint64_t> total{0};
    const std::vector<DeadRow> rows = {{"{\"a\":1}", 27, "bad"}, {"{\"a\":2}", 27, "bad"}};
    std::string error;
    std::uint64_t one_append = 0;
    {
        DeadLetters probe(dir.path / "probe", &total);
        REQUIRE(probe.append(kTarget, 1, rows, error));
        one_append = total.exchange(0);
    }
    // Room for one append and a bit: the second is refused, and nothing counts it.
    DeadLetters dead(dir.path / "dl", &total, one_append + 10);
    REQUIRE(dead.append(kTarget, 1, rows, error));
    CHECK(total.load() == one_append);
    CHECK(total.load() == dead.bytes());
    CHECK_FALSE(dead.append(kTarget, 2, rows, error));
    CHECK_THAT(error, Catch::Contains("storage.max_disk"));
    CHECK(total.load() == one_append);
    CHECK(dead.counts().at("default.events").rows == 2);
    // A restart counts what is on disk.
    std::atomic<std::uint64_t> again{0};
    DeadLetters reopened(dir.path / "dl", &again);
    CHECK(again.load() == total.load());
    // Taken for a replay and released: gone from disk and from the total.
    auto taken = reopened.take("default", "events");
    REQUIRE(taken.size() == 1);
    reopened.release(taken[0]);
    CHECK(again.load() == 0);
}

TEST_CASE("concurrent dead-letter appends never pass storage.max_disk together") {
    test::TempDir dir("chgate-dead");
    std::atomic<std::uint64_t> total{0};
    const std::uint64_t limit = 20000;
    DeadLetters dead(dir.path, &total, limit);
    const std::string row(300, 'x');  // DeadRow only views it
    const std::vector<DeadRow> rows = {{row, 27, "bad"}};
    std::atomic<int> accepted{0};
    std::atomic<std::uint64_t> most{0};  // Catch2's CHECK is not for other threads
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            std::string error;
            for (int i = 0; i < 40; ++i) {
                if (dead.append(kTarget, 1, rows, error)) ++accepted;
                auto seen = most.load();
                const auto now = total.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(most.load() <= limit);
    CHECK(accepted.load() > 0);
    CHECK(accepted.load() < 160);
    CHECK(total.load() <= limit);
    CHECK(total.load() == dead.bytes());
}

TEST_CASE("dead letters older than the retention are deleted, by the day in their names") {
    test::TempDir dir("chgate-dead");
    std::atomic<std::uint64_t> total{0};
    {
        DeadLetters dead(dir.path, &total);
        std::string error;
        REQUIRE(dead.append(kTarget, 1, std::vector<DeadRow>{{"{\"a\":1}", 27, "bad"}}, error));
    }
    // A file from ten days ago beside today's.
    const auto home = dir.path / target_dir_name(kTarget);
    {
        std::ofstream old(home / "2020-01-01.ndjson");
        old << "{\"time\":\"2020-01-01T00:00:00Z\",\"row\":{\"a\":0}}\n"
            << "{\"time\":\"2020-01-01T00:00:01Z\",\"row\":{\"a\":0}}\n";
    }
    total = 0;
    DeadLetters dead(dir.path, &total);
    CHECK(dead.counts().at("default.events").rows == 3);
    const auto before = total.load();
    using namespace std::chrono_literals;
    CHECK(dead.expire(std::chrono::system_clock::now(), 0ms) == 0);  // 0: keep forever
    CHECK(dead.expire(std::chrono::system_clock::now(), 24h * 7) == 2);
    CHECK_FALSE(std::filesystem::exists(home / "2020-01-01.ndjson"));
    CHECK(dead.counts().at("default.events").rows == 1);
    CHECK(total.load() < before);
    CHECK(total.load() == dead.bytes());
}
