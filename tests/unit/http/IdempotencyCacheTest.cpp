#include <catch2/catch.hpp>

#include "http/IdempotencyCache.hpp"

using namespace chgate;
using namespace chgate::http;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

namespace {
const auto t0 = IdempotencyCache::Clock::time_point(std::chrono::hours(100));
Response accepted() {
    Response r;
    r.status = bhttp::status::accepted;
    r.body = R"({"accepted":1})";
    return r;
}
}  // namespace

TEST_CASE("a repeat gets the first answer and a concurrent repeat waits its turn") {
    IdempotencyCache cache(10min, 100);
    Response stored;
    CHECK(cache.claim("k", t0, stored) == IdempotencyCache::Claim::fresh);
    CHECK(cache.claim("k", t0 + 1s, stored) == IdempotencyCache::Claim::in_progress);
    cache.complete("k", accepted(), t0 + 1s);
    CHECK(cache.claim("k", t0 + 2s, stored) == IdempotencyCache::Claim::answered);
    CHECK(stored.body == R"({"accepted":1})");
    CHECK(cache.claim("other", t0 + 2s, stored) == IdempotencyCache::Claim::fresh);
}

TEST_CASE("failures are not kept: the retry is processed anew") {
    IdempotencyCache cache(10min, 100);
    Response stored, refused;
    refused.status = bhttp::status::too_many_requests;
    CHECK(cache.claim("k", t0, stored) == IdempotencyCache::Claim::fresh);
    cache.complete("k", refused, t0);
    CHECK(cache.claim("k", t0 + 1s, stored) == IdempotencyCache::Claim::fresh);
    cache.forget("k");
    CHECK(cache.size() == 0);
}

TEST_CASE("keys expire after the window and the oldest go past max_keys") {
    IdempotencyCache cache(1min, 3);
    Response stored;
    for (const auto* k : {"a", "b", "c"}) {
        CHECK(cache.claim(k, t0, stored) == IdempotencyCache::Claim::fresh);
        cache.complete(k, accepted(), t0);
    }
    CHECK(cache.claim("d", t0, stored) == IdempotencyCache::Claim::fresh);
    CHECK(cache.size() == 3);
    CHECK(cache.claim("a", t0, stored) == IdempotencyCache::Claim::fresh);         // evicted
    CHECK(cache.claim("c", t0 + 2min, stored) == IdempotencyCache::Claim::fresh);  // expired
}
