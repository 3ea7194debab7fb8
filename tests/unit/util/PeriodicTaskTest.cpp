#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include "util/PeriodicTask.hpp"

// Waits here are bounded by a generous timeout and end as soon as the event
// happens: they prove order, never speed.

using namespace chgate;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {
/// Spins (politely) until `done` or ten seconds pass.
bool eventually(const std::function<bool()>& done) {
    const auto until = Clock::now() + 10s;
    while (!done()) {
        if (Clock::now() > until) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}
}  // namespace

TEST_CASE("a periodic task runs when woken, long before its time") {
    PeriodicTask task;
    std::atomic<int> runs{0};
    task.start(
        "test-task",
        [&](bool last) {
            if (!last) ++runs;
            return Clock::now() + 1h;
        },
        Clock::now() + 1h);
    CHECK(runs == 0);
    task.wake();
    CHECK(eventually([&] { return runs == 1; }));
    task.wake_by(Clock::now() + 1h + 1min);  // later than planned: changes nothing
    task.wake_by(Clock::now());
    CHECK(eventually([&] { return runs == 2; }));
    task.stop();
    CHECK(runs == 2);
}

TEST_CASE("a wake during a run brings another run at once") {
    PeriodicTask task;
    std::atomic<int> runs{0};
    std::promise<void> in_first, go_on;
    auto go = go_on.get_future().share();
    task.start(
        "test-task",
        [&](bool last) {
            if (last) return Clock::now();
            if (++runs == 1) {
                in_first.set_value();
                go.wait();  // the wake below comes while this run is in progress
            }
            return Clock::now() + 1h;
        },
        Clock::now());
    in_first.get_future().wait();
    task.wake();
    go_on.set_value();
    CHECK(eventually([&] { return runs == 2; }));
    task.stop();
}

TEST_CASE("stop runs the task once more, as its last, then joins") {
    PeriodicTask task;
    std::atomic<int> lasts{0};
    task.start(
        "test-task",
        [&](bool last) {
            if (last) ++lasts;
            return Clock::now() + 1h;
        },
        Clock::now() + 1h);
    CHECK(task.running());
    task.stop();
    CHECK(lasts == 1);
    CHECK_FALSE(task.running());
    task.stop();  // idempotent
    CHECK(lasts == 1);
}
