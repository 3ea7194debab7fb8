#include <catch2/catch.hpp>

#include "metrics/RateWindow.hpp"

using namespace chgate;
using namespace std::chrono_literals;

TEST_CASE("events per second is the mean over the last ten full seconds") {
    const auto t0 = batch::TimePoint(std::chrono::hours(5));
    metrics::RateWindow w(t0);
    CHECK(w.per_second(t0) == 0.0);
    w.add(100, t0 + 100ms);
    CHECK(w.per_second(t0 + 900ms) == 0.0);  // the first second is not over yet
    CHECK(w.per_second(t0 + 1s) == 100.0);   // one full second so far
    w.add(300, t0 + 1500ms);
    CHECK(w.per_second(t0 + 2s) == 200.0);  // (100 + 300) / 2
    CHECK(w.per_second(t0 + 10s) == 40.0);  // 400 / 10
    CHECK(w.per_second(t0 + 11s) == 30.0);  // the first second left the window
    CHECK(w.per_second(t0 + 12s) == 0.0);
    w.add(50, t0 + 100s);
    CHECK(w.per_second(t0 + 101s) == 5.0);
}
