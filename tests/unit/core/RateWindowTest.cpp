#include <catch2/catch.hpp>

#include "core/RateWindow.hpp"

using namespace chgate;
using namespace std::chrono_literals;

TEST_CASE("events per second is the mean over about the last ten seconds") {
    const auto t0 = TimePoint(std::chrono::hours(5));
    core::RateWindow w(t0);
    CHECK(w.per_second(t0) == 0.0);
    w.add(100, t0 + 100ms);
    CHECK(w.per_second(t0 + 500ms) == Approx(200.0));  // 100 events in half a second
    CHECK(w.per_second(t0 + 1s) == Approx(100.0));
    w.add(300, t0 + 1500ms);
    CHECK(w.per_second(t0 + 2s) == Approx(200.0));  // (100 + 300) / 2 s
    CHECK(w.per_second(t0 + 9500ms) == Approx(400.0 / 9.5));
    CHECK(w.per_second(t0 + 10s) == Approx(300.0 / 9.0));  // second 0 left; seconds 1-9 + 0 of 10
    CHECK(w.per_second(t0 + 10500ms) == Approx(300.0 / 9.5));
    CHECK(w.per_second(t0 + 12s) == 0.0);
    w.add(50, t0 + 100s);
    CHECK(w.per_second(t0 + 100500ms) == Approx(50.0 / 9.5));
}
