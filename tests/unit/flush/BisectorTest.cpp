#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "flush/Bisector.hpp"

using namespace chgate;
using namespace chgate::flush;
using chgate::clickhouse::ErrorClass;
using chgate::clickhouse::InsertOutcome;

namespace {

// n rows {"i":k}; rows whose index is in `bad` say "bad".
std::string make_rows(std::size_t n, const std::set<std::size_t>& bad) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += "{\"i\":" + std::to_string(i) + (bad.count(i) ? ",\"x\":\"bad\"}" : "}") + "\n";
    }
    return out;
}

// A ClickHouse that refuses a slice holding a bad row, naming the first (1-based)
// unless told not to; it remembers what it inserted.
struct FakeClickHouse {
    bool name_rows = true;
    int fail_transient_on_call = -1;
    int calls = 0;
    std::string inserted;

    InsertOutcome operator()(std::string_view slice) {
        if (calls++ == fail_transient_on_call)
            return {ErrorClass::retry, 210, "Connection refused"};
        std::size_t row = 0, pos = 0;
        while (pos < slice.size()) {
            const auto nl = slice.find('\n', pos);
            const auto line = slice.substr(pos, nl - pos);
            ++row;
            if (line.find("bad") != std::string_view::npos) {
                std::string msg = "Code: 27, e.displayText() = DB::Exception: Cannot parse input";
                if (name_rows) msg += ": (at row " + std::to_string(row) + ")";
                return {ErrorClass::quarantine, 27, msg};
            }
            pos = nl + 1;
        }
        inserted.append(slice);
        return {};
    }
};

InsertOutcome refusal(FakeClickHouse& ch, std::string_view rows) {
    auto first = ch(rows);
    REQUIRE(first.error_class == ErrorClass::quarantine);
    ch.calls = 0;
    return first;
}

std::size_t lines(std::string_view s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("the row ClickHouse names is set aside and the rest goes in one INSERT") {
    const auto rows = make_rows(1000, {500});
    FakeClickHouse ch;
    const auto first = refusal(ch, rows);
    const auto r = bisect(rows, first, std::ref(ch), 10'000);
    CHECK_FALSE(r.interrupted);
    CHECK(r.inserted_rows == 999);
    REQUIRE(r.bad_rows.size() == 1);
    CHECK(r.bad_rows[0].index == 500);
    CHECK(r.bad_rows[0].row == "{\"i\":500,\"x\":\"bad\"}");
    CHECK(r.bad_rows[0].code == 27);
    CHECK_THAT(r.bad_rows[0].message, Catch::Contains("(at row 501)"));
    CHECK(r.inserts == 1);     // the 999 others, together
    CHECK(r.successful == 1);  // one part
    CHECK(lines(ch.inserted) == 999);
}

TEST_CASE("several bad rows: one failing INSERT each, then one that succeeds") {
    const std::set<std::size_t> bad = {0, 7, 8, 500, 999};
    const auto rows = make_rows(1000, bad);
    FakeClickHouse ch;
    const auto r = bisect(rows, refusal(ch, rows), std::ref(ch), 10'000);
    CHECK(r.inserted_rows == 995);
    REQUIRE(r.bad_rows.size() == 5);
    std::set<std::size_t> found;
    for (const auto& b : r.bad_rows) {
        CHECK(b.row.find("bad") != std::string_view::npos);
        found.insert(b.index);
    }
    CHECK(found == bad);
    CHECK(r.inserts == 5);
    CHECK(r.successful == 1);
    CHECK(lines(ch.inserted) == 995);
}

TEST_CASE("alternating good and bad rows make one part, not one per good row") {
    std::set<std::size_t> bad;
    for (std::size_t i = 1; i < 200; i += 2)
        bad.insert(i);
    const auto rows = make_rows(200, bad);
    FakeClickHouse ch;
    const auto r = bisect(rows, refusal(ch, rows), std::ref(ch), 10'000);
    CHECK(r.inserted_rows == 100);
    CHECK(r.bad_rows.size() == 100);
    CHECK(r.inserts == 100);
    CHECK(r.successful == 1);
}

TEST_CASE("without row numbers the search halves") {
    const auto rows = make_rows(1024, {3, 700});
    FakeClickHouse ch;
    ch.name_rows = false;
    const auto r = bisect(rows, refusal(ch, rows), std::ref(ch), 10'000);
    CHECK(r.inserted_rows == 1022);
    CHECK(r.bad_rows.size() == 2);
    CHECK(r.inserts < 60);  // about 2 * log2(1024) per bad row
}

TEST_CASE("a transient failure stops the search and hands back what is unresolved") {
    const auto rows = make_rows(100, {10, 90});
    FakeClickHouse ch;
    const auto first = refusal(ch, rows);
    ch.fail_transient_on_call =
        1;  // row 10 is set aside; the next try names 90; then the network fails
    const auto r = bisect(rows, first, std::ref(ch), 1000);
    REQUIRE(r.interrupted);
    CHECK(r.interruption.code == 210);
    CHECK(r.inserted_rows == 0);
    CHECK(r.bad_rows.size() == 2);
    CHECK(r.remainder.size() == 98);
    CHECK(std::is_sorted(r.remainder.begin(), r.remainder.end()));
    CHECK(std::find(r.remainder.begin(), r.remainder.end(), 10) == r.remainder.end());
    // Every row is accounted for exactly once.
    CHECK(r.inserted_rows + r.bad_rows.size() + r.remainder.size() == 100);
}

TEST_CASE("the INSERT budget bounds a batch of bad rows; the rest is unresolved") {
    std::set<std::size_t> all;
    for (std::size_t i = 0; i < 200; ++i)
        all.insert(i);
    const auto rows = make_rows(200, all);
    FakeClickHouse ch;
    const auto r = bisect(rows, refusal(ch, rows), std::ref(ch), 32);
    CHECK(r.inserts == 32);
    CHECK(r.successful == 0);
    REQUIRE(r.bad_rows.size() == 200);
    CHECK(r.inserted_rows == 0);
    const auto unresolved = std::count_if(r.bad_rows.begin(), r.bad_rows.end(),
                                          [](const BadRow& b) { return b.unresolved; });
    CHECK(unresolved == 200 - 33);  // the first refusal named one, each INSERT one more
    CHECK(r.bad_rows.back().unresolved);
    CHECK(r.bad_rows.back().code == 27);
}

TEST_CASE(
    "a refusal's message is marked as its row's owner's only when the INSERT held no "
    "other owner's rows") {
    // Rows 0-4 from request 1, 5-9 from request 2; row 7 is bad.
    const auto rows = make_rows(10, {7});
    const std::vector<std::uint32_t> owners = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2};
    FakeClickHouse ch;
    auto r = bisect(rows, refusal(ch, rows), std::ref(ch), 100, owners);
    REQUIRE(r.bad_rows.size() == 1);
    CHECK_FALSE(r.bad_rows[0].message_is_owners);  // the first refusal held both requests
    // The same rows from one request only.
    const std::vector<std::uint32_t> one(10, 2);
    FakeClickHouse ch2;
    r = bisect(rows, refusal(ch2, rows), std::ref(ch2), 100, one);
    REQUIRE(r.bad_rows.size() == 1);
    CHECK(r.bad_rows[0].message_is_owners);
}

TEST_CASE("error_row reads ClickHouse's row number") {
    CHECK(error_row("Code: 27, ...: (while read the value of key n): (at row 501)\n") == 501);
    CHECK(error_row("(at row 2) and later (at row 7)") == 7);
    CHECK(error_row("Code: 60, Table default.x doesn't exist") == 0);
    CHECK(error_row("(at row x)") == 0);
    CHECK(error_row("(at row 12") == 0);
}
