#include <catch2/catch.hpp>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "http/DirectAnswer.hpp"
#include "http/ReplyInbox.hpp"
#include "http/Session.hpp"

// The durable fast path's state machine, without a socket: a fake send takes
// as many bytes as a test allows, and a fake session stands for the hold the
// writer keeps on the real one.

using namespace chgate;
using namespace chgate::http;
using State = DirectAnswer::State;

namespace {

struct FakeSession final : SessionBase {
    explicit FakeSession(ReplyInbox& inbox) : SessionBase(inbox) {}
    void stop() override {}
    void on_deferred(Response, std::uint64_t) override {}
    void on_direct_written(const std::shared_ptr<DirectAnswer>&, std::size_t) override {}
};

/// A socket that takes at most `room` bytes per answer (all, by default).
struct FakeSocket {
    std::atomic<std::size_t> room{SIZE_MAX};
    std::atomic<int> sends{0};
    std::string sent;  // the writer's thread's alone
    DirectAnswer::SendSome send() {
        return [this](int, std::string_view bytes) {
            ++sends;
            const auto n = std::min(room.load(), bytes.size());
            sent.append(bytes.substr(0, n));
            return n;
        };
    }
};

Response accepted() {
    Response r;
    r.status = boost::beast::http::status::accepted;
    r.body = "{\"accepted\":1}";
    return r;
}

struct Rig {
    boost::asio::io_context ioc;
    ReplyInbox inbox{ioc};
    FakeSocket socket;
    std::shared_ptr<DirectAnswer> answer =
        std::make_shared<DirectAnswer>(-1, Framing{11, true, false}, socket.send());
    std::shared_ptr<SessionBase> hold = std::make_shared<FakeSession>(inbox);
};

}  // namespace

TEST_CASE("the writer answers whole after the handler returned: the session need not hear") {
    Rig rig;
    REQUIRE(rig.answer->arm());
    CHECK(rig.answer->state() == State::armed);
    CHECK(rig.answer->owed(false));
    const auto w = rig.answer->write(accepted(), rig.hold);
    CHECK(w.bytes == rig.answer->out().size());
    CHECK_FALSE(w.tell_session);
    CHECK_FALSE(rig.hold);  // released by the writer, under the lock
    CHECK(rig.answer->state() == State::written);
    CHECK_THAT(rig.socket.sent, Catch::StartsWith("HTTP/1.1 202"));
    CHECK_FALSE(rig.answer->owed(true));
    CHECK_FALSE(rig.answer->park());  // the next request goes on at once
}

TEST_CASE("an answer written before the handler returns is out; arming changes nothing") {
    Rig rig;
    const auto w = rig.answer->write(accepted(), rig.hold);
    CHECK_FALSE(w.tell_session);
    REQUIRE(rig.answer->arm());
    CHECK(rig.answer->state() == State::written);
}

TEST_CASE("a socket that takes part hands the rest back to the session") {
    Rig rig;
    rig.socket.room = 5;
    REQUIRE(rig.answer->arm());
    const auto w = rig.answer->write(accepted(), rig.hold);
    CHECK(w.bytes == 5);
    CHECK(w.tell_session);
    CHECK(rig.hold);  // the session releases it, on its own thread
    CHECK(rig.answer->state() == State::handed_back);
    CHECK(rig.answer->owed(false));
    // The client does not read: an overdue answer already begun closes the connection.
    CHECK(rig.answer->overdue() == DirectAnswer::Overdue::close);
    rig.answer->rest_written();
    CHECK(rig.answer->state() == State::written);
    CHECK(rig.answer->overdue() == DirectAnswer::Overdue::not_owed);
}

TEST_CASE("a request read ahead is parked until the answer is out, and the writer says so") {
    Rig rig;
    REQUIRE(rig.answer->arm());
    REQUIRE(rig.answer->park());
    const auto w = rig.answer->write(accepted(), rig.hold);
    CHECK(w.tell_session);  // to resume the parked request
    CHECK(rig.hold);
    CHECK(rig.answer->after().parked);
    CHECK_FALSE(rig.answer->after().close);
}

TEST_CASE("a session that wants to close hears when the answer is out") {
    Rig rig;
    REQUIRE(rig.answer->arm());
    CHECK(rig.answer->owed(true));
    CHECK(rig.answer->write(accepted(), rig.hold).tell_session);
    CHECK(rig.answer->after().close);
}

TEST_CASE("an overdue answer not begun is taken over: the writer then writes nothing") {
    Rig rig;
    REQUIRE(rig.answer->arm());
    REQUIRE(rig.answer->park());
    CHECK(rig.answer->overdue() == DirectAnswer::Overdue::answer_here);
    CHECK(rig.answer->state() == State::taken_over);
    CHECK(rig.answer->after().parked);  // dropped with the connection by the session
    const auto w = rig.answer->write(accepted(), rig.hold);
    CHECK(w.bytes == 0);
    CHECK(w.tell_session);  // only so that its hold ends on the session's thread
    CHECK(rig.socket.sends == 0);
}

TEST_CASE("a handler that answers at once after deferring takes the answer over") {
    Rig rig;
    rig.answer->take_over();
    CHECK_FALSE(rig.answer->owed(true));
    CHECK(rig.answer->write(accepted(), rig.hold).bytes == 0);
    CHECK(rig.socket.sends == 0);
}

TEST_CASE("a reply dropped while the handler runs is answered by the session") {
    Rig rig;
    CHECK_FALSE(rig.answer->drop());  // the handler still runs: nothing to write yet
    CHECK(rig.answer->state() == State::dropped);
    CHECK_FALSE(rig.answer->arm());  // the session answers "lost" itself
    CHECK(rig.answer->state() == State::taken_over);
}

TEST_CASE("a reply dropped after the handler returned is answered by the writer") {
    Rig rig;
    REQUIRE(rig.answer->arm());
    CHECK(rig.answer->drop());  // the caller writes the lost answer
    CHECK(rig.answer->state() == State::armed);
}

TEST_CASE("state names") {
    CHECK(to_string(State::handed_back) == "handed_back");
    CHECK(to_string(State::taken_over) == "taken_over");
}

// The two threads race: the session parks its next request, or finds its
// answer overdue, while the writer writes. Whatever the order, exactly one of
// them answers, and a parked request is never left waiting unheard.
TEST_CASE("writer and session racing agree on who answers and who must hear", "[race]") {
    for (int round = 0; round < 2000; ++round) {
        Rig rig;
        rig.socket.room = round % 3 == 0 ? 7 : SIZE_MAX;  // sometimes a partial write
        REQUIRE(rig.answer->arm());
        std::atomic<bool> go{false};
        DirectAnswer::Written w;
        std::thread writer([&] {
            while (!go) {
            }
            w = rig.answer->write(accepted(), rig.hold);
        });
        go = true;
        bool parked = false;
        auto overdue = DirectAnswer::Overdue::not_owed;
        if (round % 2 == 0) {
            parked = rig.answer->park();
        } else {
            overdue = rig.answer->overdue();
        }
        writer.join();
        const auto state = rig.answer->state();
        if (overdue == DirectAnswer::Overdue::answer_here) {
            // The session answered: the writer wrote nothing.
            CHECK(rig.socket.sends == 0);
            CHECK(state == State::taken_over);
        } else {
            CHECK(rig.socket.sends == 1);
        }
        if (parked) {
            // Parked before the write ended: the writer must tell the session.
            CHECK(w.tell_session);
        }
        if (state == State::handed_back) CHECK(w.tell_session);
        // The hold is released by the writer exactly when the session need not hear.
        CHECK(static_cast<bool>(rig.hold) == w.tell_session);
    }
}
