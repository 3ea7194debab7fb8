#include <catch2/catch.hpp>

#include "clickhouse/CircuitBreaker.hpp"

using namespace chgate;
using namespace chgate::clickhouse;
using namespace std::chrono_literals;
using State = CircuitBreaker::State;

namespace {
const auto t0 = CircuitBreaker::Clock::time_point(std::chrono::hours(7));
}

TEST_CASE("the breaker opens after consecutive failures and lets one trial through later") {
    CircuitBreaker b(3, 10s);
    CHECK(b.allow(t0));
    b.on_failure(t0);
    b.on_failure(t0);
    CHECK(b.state(t0) == State::closed);
    b.on_success();  // a success in between resets the count
    b.on_failure(t0);
    b.on_failure(t0);
    CHECK(b.allow(t0));
    b.on_failure(t0);
    CHECK(b.state(t0) == State::open);
    CHECK_FALSE(b.allow(t0 + 9s));
    CHECK(b.state(t0 + 10s) == State::half_open);
    CHECK(b.allow(t0 + 10s));        // the trial
    CHECK_FALSE(b.allow(t0 + 10s));  // only one at a time
    b.on_failure(t0 + 11s);          // the trial failed: open again, a new cool-down
    CHECK(b.state(t0 + 12s) == State::open);
    CHECK_FALSE(b.allow(t0 + 20s));
    CHECK(b.allow(t0 + 21s));
    b.on_success();
    CHECK(b.state(t0 + 21s) == State::closed);
    CHECK(b.consecutive_failures() == 0);
    CHECK(b.allow(t0 + 21s));
    CHECK(b.allow(t0 + 21s));
}
