#include <catch2/catch.hpp>

#include "util/Progress.hpp"

// A fake clock: time points are offsets from an arbitrary origin.

using namespace chgate;
using namespace std::chrono_literals;

namespace {
const auto t0 = Progress::Clock::time_point{} + 1000h;
}

TEST_CASE("progress counted in rows: rate and time left from the rows done") {
    Progress p("spool_drain", "", t0);
    p.set_left(40'000);
    auto v = p.view(t0);
    CHECK(v.rows_done == 0);
    CHECK(v.rows_left == 40'000);
    CHECK_FALSE(v.eta_seconds);  // nothing done yet: no rate to go by
    CHECK(describe(v) == "0 rows done, 40,000 left (0%), 0 rows/s, time left unknown yet");

    p.advance(12'000);
    p.set_left(28'000);
    v = p.view(t0 + 4s);
    CHECK(v.operation == "spool_drain");
    CHECK(v.rows_per_second == Approx(3000));
    REQUIRE(v.eta_seconds);
    CHECK(*v.eta_seconds == Approx(28'000.0 / 3000));
    CHECK_FALSE(v.left_estimated);
    CHECK(v.elapsed_seconds == Approx(4));
    CHECK(describe(v) == "12,000 rows done, 28,000 left (30%), 3,000 rows/s, about 10 s left");

    p.advance(28'000);
    p.set_left(0);
    v = p.view(t0 + 10s);
    CHECK(v.eta_seconds == 0.0);
    CHECK(describe(v) == "40,000 rows done, 0 left (100%), 4,000 rows/s, about 0 s left");
}

TEST_CASE("progress counted in bytes: rows left are estimated from the bytes left") {
    Progress p("wal_replay", "events", t0);
    p.set_bytes(0, 1000);
    auto v = p.view(t0 + 1s);
    CHECK(v.left_estimated);
    CHECK_FALSE(v.eta_seconds);

    p.advance(500);
    p.set_bytes(250, 1000);  // a quarter read, 500 rows in it
    v = p.view(t0 + 2s);
    CHECK(v.left_estimated);
    CHECK(v.rows_left == 1500);
    REQUIRE(v.eta_seconds);
    CHECK(*v.eta_seconds == Approx(6));  // three more quarters at 2 s each
    CHECK(describe(v) == "500 rows done, about 1,500 left (25%), 250 rows/s, about 6 s left");

    p.set_bytes(1200, 1000);  // read past what was counted: done, never negative
    v = p.view(t0 + 3s);
    CHECK(v.rows_left == 0);
    CHECK_FALSE(v.left_estimated);
    CHECK(v.eta_seconds == 0.0);
}

TEST_CASE("long waits read in minutes and hours") {
    ProgressView v;
    v.rows_done = 1;
    v.rows_left = 1'000'000;
    v.rows_per_second = 1;
    v.eta_seconds = 1'000'000;
    CHECK(describe(v) == "1 rows done, 1,000,000 left (0%), 1 rows/s, about 277.8 h left");
    v.eta_seconds = 600;
    CHECK(describe(v).ends_with("about 10 min left"));
}

TEST_CASE("a progress line is due at most once per interval, not at the start") {
    Progress p("dead_letter_replay", "events", t0);
    CHECK_FALSE(p.due(t0, 5s));
    CHECK_FALSE(p.due(t0 + 4s, 5s));
    CHECK(p.due(t0 + 5s, 5s));
    CHECK_FALSE(p.due(t0 + 9s, 5s));
    CHECK(p.due(t0 + 11s, 5s));
}

TEST_CASE("the board lists what runs, and forgets what ended") {
    ProgressBoard board;
    CHECK(board.views(t0).empty());
    auto a = board.begin("wal_replay", "", t0);
    {
        ProgressScope scope(&board, "quarantine_replay", "events");
        scope->advance(7);
        const auto views = board.views(t0 + 1s);
        REQUIRE(views.size() == 2);
        CHECK(views[0].operation == "wal_replay");
        CHECK(views[1].operation == "quarantine_replay");
        CHECK(views[1].table == "events");
        CHECK(views[1].rows_done == 7);
    }
    CHECK(board.views(t0).size() == 1);
    board.end(a);
    CHECK(board.views(t0).empty());
    ProgressScope unboarded(nullptr, "spool_drain", "");  // counts, shown nowhere
    unboarded->advance(1);
    CHECK((*unboarded).view(t0).rows_done == 1);
}

TEST_CASE("an operation's name reads in words, an unknown one as it is") {
    CHECK(operation_words("wal_replay") == "replaying the write-ahead logs");
    CHECK(operation_words("spool_drain") == "draining the spool");
    CHECK(operation_words("dead_letter_replay") == "sending dead letters again");
    CHECK(operation_words("quarantine_replay") == "replaying quarantined rows");
    CHECK(operation_words("something_new") == "something_new");
}
