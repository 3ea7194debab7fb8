#include <catch2/catch.hpp>
#include <thread>

#include "flush/FlushQueue.hpp"

using namespace chgate;
using namespace std::chrono_literals;

namespace {
flush::Batch make(std::uint64_t id, int priority, TimePoint first, TimePoint not_before = {}) {
    flush::Batch b;
    b.id = id;
    b.priority = priority;
    b.first_append = first;
    b.not_before = not_before;
    return b;
}
}  // namespace

TEST_CASE("ready batches leave by priority then oldest first") {
    flush::FlushQueue q;
    const auto t = Clock::now();
    q.push(make(1, 3, t + 2ms));
    q.push(make(2, 1, t + 5ms));
    q.push(make(3, 3, t + 1ms));
    q.push(make(4, 2, t));
    std::vector<std::uint64_t> order;
    for (int i = 0; i < 4; ++i) {
        order.push_back(q.pop()->id);
        q.finish();
    }
    CHECK(order == std::vector<std::uint64_t>{2, 4, 3, 1});
}

TEST_CASE("a batch backing off waits for its time while others pass") {
    flush::FlushQueue q;
    const auto t = Clock::now();
    q.push(make(1, 1, t, t + 80ms));
    q.push(make(2, 5, t));
    CHECK(q.pop()->id == 2);
    q.finish();
    const auto b = q.pop();
    CHECK(b->id == 1);
    CHECK(Clock::now() >= t + 80ms);
}

TEST_CASE("close drains counting retries of batches in hand") {
    flush::FlushQueue q;
    q.push(make(1, 1, Clock::now()));
    auto b = q.pop();
    REQUIRE(b);
    q.close();
    // The batch in hand fails and comes back: the queue must not report empty yet.
    std::thread worker([&] {
        std::this_thread::sleep_for(20ms);
        b->attempts = 1;
        b->not_before = Clock::now() + 10ms;
        q.retry(std::move(*b));
    });
    const auto again = q.pop();
    worker.join();
    REQUIRE(again);
    CHECK(again->id == 1);
    q.finish();
    CHECK_FALSE(q.pop().has_value());
}

TEST_CASE("abort stops pops and hands back what is left") {
    flush::FlushQueue q;
    q.push(make(1, 1, Clock::now()));
    q.push(make(2, 1, Clock::now(), Clock::now() + 1h));
    q.abort();
    CHECK_FALSE(q.pop().has_value());
    CHECK(q.take_all().size() == 2);
    CHECK(q.size() == 0);
}

TEST_CASE("a waiting flusher wakes for a new batch") {
    flush::FlushQueue q;
    std::optional<flush::Batch> got;
    std::thread worker([&] { got = q.pop(); });
    std::this_thread::sleep_for(20ms);
    q.push(make(7, 1, Clock::now()));
    worker.join();
    REQUIRE(got);
    CHECK(got->id == 7);
}
