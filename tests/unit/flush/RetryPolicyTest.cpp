#include <catch2/catch.hpp>

#include "flush/RetryPolicy.hpp"

using chgate::flush::RetryPolicy;
using namespace std::chrono_literals;

TEST_CASE("backoff grows exponentially up to the cap with full jitter") {
    const RetryPolicy p(500ms, 30s, 2.0);
    CHECK(p.ceiling(1) == 500ms);
    CHECK(p.ceiling(2) == 1000ms);
    CHECK(p.ceiling(3) == 2000ms);
    CHECK(p.ceiling(10) == 30s);
    CHECK(p.ceiling(1000) == 30s);
    CHECK(p.delay(3, 0.5) == 1000ms);
    CHECK(p.delay(3, 0.999) <= 2000ms);
    CHECK(p.delay(3, 0.0) == 1ms);  // never zero: a retry must not spin
    CHECK(p.delay(3, 7.0) == 2000ms);
}
