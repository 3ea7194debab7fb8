#include <catch2/catch.hpp>

#include "http/TokenBucket.hpp"

using chgate::http::TokenBucket;
using namespace std::chrono_literals;

TEST_CASE("a token bucket allows its rate per second, saved up to one second") {
    const auto t0 = TokenBucket::Clock::time_point{} + 1h;
    TokenBucket b(100, t0);
    CHECK(b.take(60, t0).allowed);
    CHECK(b.take(60, t0).allowed);  // 40 left: allowed, into debt (-20)
    auto d = b.take(1, t0);
    CHECK_FALSE(d.allowed);
    CHECK(d.wait_seconds == Approx(0.21));
    CHECK_FALSE(b.take(1, t0 + 200ms).allowed);  // back to 0: still empty
    CHECK(b.take(1, t0 + 300ms).allowed);
    // Idle for a minute: no more than a second's worth saved up.
    CHECK(b.take(100, t0 + 1min).allowed);
    CHECK_FALSE(b.take(1, t0 + 1min).allowed);
}

TEST_CASE("a request larger than a second's worth goes through when the bucket is full") {
    const auto t0 = TokenBucket::Clock::time_point{} + 1h;
    TokenBucket b(10, t0);
    CHECK(b.take(50, t0).allowed);
    CHECK_FALSE(b.take(1, t0 + 4s).allowed);
    CHECK(b.take(1, t0 + 5100ms).allowed);
}
