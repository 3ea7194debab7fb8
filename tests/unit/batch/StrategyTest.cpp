#include <catch2/catch.hpp>

#include "batch/AdaptiveStrategy.hpp"
#include "batch/Strategy.hpp"

using namespace chgate;
using namespace chgate::batch;
using namespace chgate::config;
using namespace std::chrono_literals;

namespace {

// A fake clock: times are offsets from an arbitrary origin, far from 0 so
// window arithmetic does not depend on it.
const TimePoint t0 = TimePoint(std::chrono::hours(1000));

TableConfig table(StrategyKind kind) {
    TableConfig c;
    c.strategy = kind;
    c.max_batch_size = 100;
    c.max_batch_time = 2s;
    c.max_memory = 1 * kMiB;  // seals at 512 KiB
    c.max_age = 30s;
    c.min_batch_size = 10;
    c.target_latency = 100ms;
    return c;
}

BufferView buffer(std::uint64_t rows, std::uint64_t bytes = 100, TimePoint first = t0) {
    return BufferView{rows, bytes, first};
}

}  // namespace

TEST_CASE("immediate seals after every append") {
    const auto s = make_strategy(table(StrategyKind::immediate));
    CHECK(s->should_seal(buffer(1), t0) == flush::FlushReason::immediate);
    CHECK_FALSE(s->should_seal(buffer(0), t0).has_value());
    CHECK(s->deadline(buffer(1)) == t0);
}

TEST_CASE("hybrid seals on size or on time whichever comes first") {
    const auto s = make_strategy(table(StrategyKind::hybrid));
    CHECK_FALSE(s->should_seal(buffer(99), t0 + 1999ms).has_value());
    CHECK(s->should_seal(buffer(100), t0) == flush::FlushReason::size);
    CHECK(s->should_seal(buffer(1), t0 + 2s) == flush::FlushReason::time);
    CHECK(s->deadline(buffer(1)) == t0 + 2s);
}

TEST_CASE("size seals only on size and on the hard max_age") {
    const auto s = make_strategy(table(StrategyKind::size));
    CHECK_FALSE(s->should_seal(buffer(99), t0 + 29s).has_value());
    CHECK(s->should_seal(buffer(100), t0) == flush::FlushReason::size);
    CHECK(s->should_seal(buffer(1), t0 + 30s) == flush::FlushReason::age);
    CHECK(s->deadline(buffer(1)) == t0 + 30s);
}

TEST_CASE("time seals at the end of fixed windows with max_batch_size as a cap") {
    auto cfg = table(StrategyKind::time);
    const auto s = make_strategy(cfg);
    // Windows are whole multiples of 2 s on the clock; t0 is on a boundary.
    CHECK(s->deadline(buffer(1, 100, t0)) == t0 + 2s);
    CHECK(s->deadline(buffer(1, 100, t0 + 1500ms)) == t0 + 2s);
    CHECK(s->deadline(buffer(1, 100, t0 + 2s)) == t0 + 4s);
    CHECK_FALSE(s->should_seal(buffer(5, 100, t0 + 1500ms), t0 + 1999ms).has_value());
    CHECK(s->should_seal(buffer(5, 100, t0 + 1500ms), t0 + 2s) == flush::FlushReason::time);
    CHECK(s->should_seal(buffer(100), t0) == flush::FlushReason::size);
}

TEST_CASE("memory seals at half the table's max_memory") {
    const auto s = make_strategy(table(StrategyKind::memory));
    CHECK_FALSE(s->should_seal(buffer(1'000'000, 512 * 1024 - 1), t0).has_value());
    CHECK(s->should_seal(buffer(1, 512 * 1024), t0) == flush::FlushReason::memory);
    CHECK(s->should_seal(buffer(1), t0 + 30s) == flush::FlushReason::age);
    CHECK(s->thresholds().seal_bytes == 512 * 1024);
    CHECK(s->thresholds().max_batch_size == 0);
}

TEST_CASE("every strategy respects the memory limit and the hard max age") {
    for (auto kind : {StrategyKind::time, StrategyKind::size, StrategyKind::hybrid,
                      StrategyKind::memory, StrategyKind::adaptive}) {
        INFO(to_string(kind));
        const auto s = make_strategy(table(kind));
        CHECK(s->should_seal(buffer(1, 600 * 1024), t0) == flush::FlushReason::memory);
        const auto r = s->should_seal(buffer(1), t0 + 30s);
        REQUIRE(r.has_value());
        CHECK((*r == flush::FlushReason::age || *r == flush::FlushReason::time));
        CHECK(s->deadline(buffer(1)) <= t0 + 30s);
    }
}

TEST_CASE("adaptive grows while inserts are fast and sealed by size") {
    AdaptiveStrategy s(table(StrategyKind::adaptive));
    CHECK(s.current_batch_size() == 10);
    CHECK(s.should_seal(buffer(10), t0) == flush::FlushReason::size);
    CHECK_FALSE(s.should_seal(buffer(9), t0).has_value());
    s.on_flushed({10, 20ms, flush::FlushReason::size, true});
    CHECK(s.current_batch_size() == 15);
    for (int i = 0; i < 50; ++i)
        s.on_flushed({s.current_batch_size(), 20ms, flush::FlushReason::size, true});
    CHECK(s.current_batch_size() == 100);  // capped at max_batch_size
    CHECK(s.thresholds().current_batch_size == 100);
}

TEST_CASE("adaptive holds when batches are sealed by time shrinks when slow or failing") {
    AdaptiveStrategy s(table(StrategyKind::adaptive));
    for (int i = 0; i < 10; ++i)
        s.on_flushed({s.current_batch_size(), 20ms, flush::FlushReason::size, true});
    const auto grown = s.current_batch_size();
    s.on_flushed({5, 10ms, flush::FlushReason::time, true});
    CHECK(s.current_batch_size() == grown);
    s.on_flushed({grown, 80ms, flush::FlushReason::size, true});  // inside target, not far inside
    CHECK(s.current_batch_size() == grown);
    s.on_flushed({grown, 200ms, flush::FlushReason::size, true});  // twice the target
    CHECK(s.current_batch_size() == grown / 2);
    s.on_flushed({grown, 110ms, flush::FlushReason::size, true});
    CHECK(s.current_batch_size() < grown / 2);
    s.on_flushed({grown, 10ms, flush::FlushReason::size, false});
    const auto after_failure = s.current_batch_size();
    for (int i = 0; i < 20; ++i)
        s.on_flushed({1, 10ms, flush::FlushReason::size, false});
    CHECK(s.current_batch_size() == 10);  // never below min_batch_size
    CHECK(after_failure >= 10);
}

TEST_CASE("adaptive also seals on time") {
    AdaptiveStrategy s(table(StrategyKind::adaptive));
    CHECK(s.should_seal(buffer(1), t0 + 2s) == flush::FlushReason::time);
    CHECK(s.deadline(buffer(1)) == t0 + 2s);
}

TEST_CASE("thresholds say what triggers") {
    CHECK(make_strategy(table(StrategyKind::size))->thresholds().max_batch_time == 0ms);
    CHECK(make_strategy(table(StrategyKind::hybrid))->thresholds().max_batch_time == 2s);
    CHECK(make_strategy(table(StrategyKind::immediate))->thresholds().max_batch_size == 0);
    CHECK(make_strategy(table(StrategyKind::hybrid))->thresholds().max_age == 30s);
}
