#include <catch2/catch.hpp>
#include <thread>

#include "util/Log.hpp"

using namespace chgate;
using namespace chgate::log;
using namespace std::chrono_literals;

TEST_CASE(
    "a call site writes at most the rate limit's lines per interval, then says how many "
    "it dropped") {
    set_rate_limit(3, 200ms);
    Site site;
    std::uint64_t suppressed = 99;
    int written = 0;
    for (int i = 0; i < 10; ++i) {
        if (admit(site, suppressed)) {
            ++written;
            CHECK(suppressed == 0);
        }
    }
    CHECK(written == 3);
    // A new interval: the next line goes out and carries the count.
    while (!admit(site, suppressed))
        std::this_thread::sleep_for(20ms);
    CHECK(suppressed >= 7);
    set_rate_limit(0, 1s);  // no limit
    for (int i = 0; i < 100; ++i)
        CHECK(admit(site, suppressed));
    set_rate_limit(20, 10s);  // the default, for the other tests
}
