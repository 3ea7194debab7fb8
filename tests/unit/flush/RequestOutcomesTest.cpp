#include <catch2/catch.hpp>

#include "flush/RequestOutcomes.hpp"

using namespace chgate;
using namespace chgate::flush;
using chgate::flush::CommitOutcome;
using chgate::flush::CommitWaiter;
using chgate::flush::WaiterRows;

namespace {

// A request waiting for one batch; records what it was told.
struct Request {
    std::vector<CommitOutcome> told;
    std::shared_ptr<CommitWaiter> waiter =
        std::make_shared<CommitWaiter>([this](const CommitOutcome& o) { told.push_back(o); });
    Request() {
        waiter->add_batch();
        waiter->arm();
    }
};

}  // namespace

TEST_CASE("row owners and the entry owning a row") {
    Request a, b;
    const std::vector<WaiterRows> w = {{a.waiter, 0, 3, 0}, {b.waiter, 5, 2, 10}};
    CHECK(row_owners(w, 8) == std::vector<std::uint32_t>{1, 1, 1, 0, 0, 2, 2, 0});
    CHECK(owner_of(w, 1)->waiter == a.waiter);
    CHECK(owner_of(w, 3) == nullptr);
    CHECK(owner_of(w, 6)->first_in_request == 10);
    CHECK(owner_of(w, 7) == nullptr);
}

TEST_CASE("keep_rows renumbers the rows left and splits a request where rows left between") {
    Request a, b;
    const std::vector<WaiterRows> w = {{a.waiter, 0, 4, 0}, {b.waiter, 4, 4, 0}};
    const std::vector<std::size_t> kept = {0, 1, 3, 5, 6};
    const auto k = keep_rows(w, kept);
    REQUIRE(k.size() == 3);
    CHECK((k[0].waiter == a.waiter && k[0].first == 0 && k[0].count == 2 &&
           k[0].first_in_request == 0));
    CHECK((k[1].waiter == a.waiter && k[1].first == 2 && k[1].count == 1 &&
           k[1].first_in_request == 3));
    CHECK((k[2].waiter == b.waiter && k[2].first == 3 && k[2].count == 2 &&
           k[2].first_in_request == 1));
}

TEST_CASE("a request hears of its own refused rows only, and never another's message") {
    Request good, bad;
    const std::vector<WaiterRows> w = {{good.waiter, 0, 2, 0}, {bad.waiter, 2, 2, 0}};
    RequestOutcomes outcomes;
    const std::string quoting = "Code: 27, Cannot parse input: before: '{\"secret\":1}'";
    outcomes.refuse_row(w, 3, message_for_request(27, quoting, false));
    outcomes.report(w);
    REQUIRE(good.told.size() == 1);
    CHECK(good.told[0].committed);
    REQUIRE(bad.told.size() == 1);
    CHECK_FALSE(bad.told[0].committed);
    CHECK(bad.told[0].rejected);
    CHECK_THAT(bad.told[0].error,
               Catch::StartsWith("ClickHouse refused row 1 of the request: Code 27"));
    CHECK_THAT(bad.told[0].error, Catch::Contains("CANNOT_PARSE_INPUT_ASSERTION_FAILED"));
    CHECK(bad.told[0].error.find("secret") == std::string::npos);
    // Its own rows only: the whole message.
    CHECK(message_for_request(27, quoting, true) == quoting);
}

TEST_CASE("settle tells the requests with no rows left at once, and keeps the others' refusals") {
    Request done, refused, staying;
    const std::vector<WaiterRows> before = {
        {done.waiter, 0, 2, 0}, {refused.waiter, 2, 1, 0}, {staying.waiter, 3, 2, 0}};
    RequestOutcomes outcomes;
    outcomes.refuse_row(before, 2, "bad");
    outcomes.refuse_row(before, 3, "bad too");
    const std::vector<std::size_t> kept = {4};
    const auto after = keep_rows(before, kept);
    const auto keep = outcomes.settle(before, after);
    REQUIRE(done.told.size() == 1);
    CHECK(done.told[0].committed);
    REQUIRE(refused.told.size() == 1);
    CHECK_FALSE(refused.told[0].committed);
    CHECK(staying.told.empty());
    REQUIRE(keep.size() == 1);
    CHECK(keep[0].first == staying.waiter);
    // At the end the remembered refusal wins over the batch's success.
    RequestOutcomes(keep).report(after);
    REQUIRE(staying.told.size() == 1);
    CHECK_FALSE(staying.told[0].committed);
    CHECK_THAT(staying.told[0].error, Catch::Contains("bad too"));
}
