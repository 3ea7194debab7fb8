#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <mutex>

#include "flush/BatchOwner.hpp"
#include "flush/Flusher.hpp"
#include "store/DeadLetters.hpp"
#include "store/Spool.hpp"
#include "store/Storage.hpp"
#include "support/TempDir.hpp"

// The flusher's decisions, one batch at a time, on the caller's thread: a
// scripted Sender plays ClickHouse and a recording BatchOwner plays the
// table's buffer, so every outcome is driven and checked without a socket.

using namespace chgate;
using namespace std::chrono_literals;
using clickhouse::ErrorClass;

namespace {

/// Records every report the flusher makes, and answers as a table would.
class FakeOwner final : public flush::BatchOwner {
  public:
    explicit FakeOwner(config::TableConfig cfg = {}, bool configured = true)
        : cfg_(std::make_shared<config::TableConfig>(std::move(cfg))), configured_(configured) {
        target_ = {"INSERT INTO `default`.`events` FORMAT JSONEachRow",
                   {"default", "events", {}},
                   "events",
                   0,
                   "events",
                   "events"};
    }

    const flush::BatchTarget& target() const override { return target_; }
    std::shared_ptr<const config::TableConfig> settings() const override { return cfg_; }
    bool configured() const override { return configured_; }
    void mark_missing(TimePoint) override { log("missing"); }
    bool held() const override { return held_; }
    bool claim_probe(TimePoint now, milliseconds interval, TimePoint& next) override {
        if (now < next_probe_) {
            next = next_probe_;
            return false;
        }
        next_probe_ = now + interval;
        return true;
    }
    void hold(const std::string& reason, TimePoint now) override {
        if (!held_) next_probe_ = now;  // as TableBuffer: the next batch probes at once
        held_ = true;
        hold_reason_ = reason;
        log("hold");
    }
    bool release_hold() override { return std::exchange(held_, false); }
    std::string hold_reason() const override { return hold_reason_; }
    void on_sent(const flush::Batch&, bool ok, milliseconds) override {
        log(ok ? "sent ok" : "sent failed");
    }
    void on_inserted(const flush::Batch& b, std::uint64_t, milliseconds) override {
        inserted_rows += b.row_count;
        log("inserted");
    }
    void on_attempt_failed(const flush::Batch&, const std::string& error, milliseconds,
                           bool will_retry) override {
        last_error = error;
        log(will_retry ? "failed, retry" : "failed");
    }
    void on_bad_rows(const flush::Batch&, std::uint64_t inserted, std::uint64_t bad, std::uint64_t,
                     bool dead_lettered, const std::string&) override {
        inserted_rows += inserted;
        bad_rows += bad;
        log(dead_lettered ? "bad rows kept" : "bad rows dropped");
    }
    void on_spooled(const flush::Batch&, const std::string&) override { log("spooled"); }
    void on_done(const flush::Batch&, store::DoneOutcome outcome) override {
        done = outcome;
        log("done");
    }
    void on_rows_left(std::uint64_t rows, std::uint64_t) override { rows_left += rows; }
    void on_released(const flush::Batch&) override { log("released"); }
    bool seal_logged(const flush::Batch& b) const override { return b.seal_lsn <= logged_upto; }
    std::uint64_t logged_upto = 0;  ///< seal records on disk up to this LSN

    std::vector<std::string> events;
    std::string last_error;
    std::uint64_t inserted_rows = 0, bad_rows = 0, rows_left = 0;
    std::optional<store::DoneOutcome> done;

  private:
    void log(std::string e) { events.push_back(std::move(e)); }
    flush::BatchTarget target_;
    std::shared_ptr<const config::TableConfig> cfg_;
    bool configured_;
    bool held_ = false;
    std::string hold_reason_;
    TimePoint next_probe_{};
};

/// Plays ClickHouse: each INSERT's answer comes from `answer`, and every body
/// is kept.
class ScriptedSender final : public clickhouse::Sender {
  public:
    using Answer = std::function<clickhouse::InsertOutcome(std::string_view rows)>;
    explicit ScriptedSender(Answer answer) : answer_(std::move(answer)) {}
    clickhouse::SendResult send(const clickhouse::InsertCall& call) override {
        bodies.emplace_back(call.rows);
        distributed.push_back(call.distributed);
        clickhouse::SendResult r;
        r.outcome = answer_(call.rows);
        r.response.transport_ok = r.outcome.error_class != ErrorClass::retry;
        r.response.elapsed = 3ms;
        r.sent_bytes = call.rows.size();
        return r;
    }
    std::vector<std::string> bodies;
    std::vector<bool> distributed;  ///< per INSERT: into a Distributed table, synchronously

  private:
    Answer answer_;
};

clickhouse::InsertOutcome ok() {
    return {};
}
clickhouse::InsertOutcome transient() {
    return {ErrorClass::retry, 0, "Connection refused"};
}
clickhouse::InsertOutcome missing_table() {
    return {ErrorClass::hold, 60, "Table default.events doesn't exist."};
}
/// ClickHouse refuses the first row holding "bad", naming it as 18.16 does.
clickhouse::InsertOutcome refuse_bad(std::string_view rows) {
    std::size_t row = 1;
    for (std::size_t pos = 0; pos < rows.size(); ++row) {
        const auto nl = rows.find('\n', pos);
        if (rows.substr(pos, nl - pos).find("bad") != std::string_view::npos) {
            return {ErrorClass::quarantine, 27,
                    "Cannot parse input: expected { (at row " + std::to_string(row) + ")"};
        }
        pos = nl + 1;
    }
    return {};
}

/// The flusher, its queue and (optionally) storage for the spool and dead letters.
struct Rig {
    explicit Rig(bool with_storage = true, std::uint64_t max_disk = 0) {
        cfg.retry_initial = 10ms;
        cfg.retry_max = 10ms;
        cfg.hold_probe_interval = 50ms;
        cfg.hold_max = 10min;
        cfg.max_inserts_per_batch = 20;
        if (with_storage) {
            storage = std::make_unique<store::Storage>(
                store::StorageOptions{dir.path, {}, std::chrono::seconds(1), max_disk});
        }
        flusher = std::make_unique<flush::Flusher>(queue, cfg, nullptr, storage.get());
    }

    /// A batch of `rows` (one per line) from `owner`, queued and taken as a
    /// worker takes it.
    flush::Batch take(const std::shared_ptr<FakeOwner>& owner, const std::string& rows,
                      std::uint64_t row_count) {
        flush::Batch b;
        b.id = ++next_id;
        b.owner = owner;
        b.rows = rows;
        b.row_count = row_count;
        b.first_append = b.sealed_at = Clock::now();
        queue.push(std::move(b));
        return *queue.pop();
    }
    /// The batches back in the queue (retries), taken out.
    std::vector<flush::Batch> requeued() { return queue.take_all(); }

    test::TempDir dir{"chgate-flusher"};
    config::ClickHouseConfig cfg;
    std::unique_ptr<store::Storage> storage;
    flush::FlushQueue queue;
    std::unique_ptr<flush::Flusher> flusher;
    std::uint64_t next_id = 100;
};

/// A request waiting for ack: committed, and what it was told.
struct Waiter {
    Waiter() = default;
    /// Owns every row of `b`, and is armed.
    explicit Waiter(flush::Batch& b) {
        owns(b, 0, b.row_count);
        armed();
    }
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    flush::CommitWaiterPtr ptr = std::make_shared<flush::CommitWaiter>(
        [this](const flush::CommitOutcome& o) { outcome = o; });
    std::optional<flush::CommitOutcome> outcome;
    /// Rows [first, first + count) of `b` are this request's.
    void owns(flush::Batch& b, std::uint64_t first, std::uint64_t count) {
        const bool known = std::any_of(b.waiters.begin(), b.waiters.end(),
                                       [&](const auto& r) { return r.waiter == ptr; });
        if (!known) ptr->add_batch();  // one report per batch, however many entries
        b.waiters.push_back({ptr, first, count, first});
    }
    void armed() { ptr->arm(); }
};

std::uint64_t dead_rows(store::Storage& s) {
    std::uint64_t n = 0;
    for (const auto& [table, count] : s.dead_letters().counts())
        n += count.rows;
    return n;
}

}  // namespace

TEST_CASE("a batch ClickHouse takes is committed, and its requests hear so") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"a\":1}\n{\"a\":2}\n", 2);
    Waiter w(b);
    ScriptedSender sender([](std::string_view) { return ok(); });
    rig.flusher->deliver(b, sender);
    CHECK(sender.bodies == std::vector<std::string>{"{\"a\":1}\n{\"a\":2}\n"});
    CHECK(owner->events == std::vector<std::string>{"sent ok", "inserted", "done", "released"});
    CHECK(owner->done == store::DoneOutcome::committed);
    CHECK(owner->inserted_rows == 2);
    REQUIRE(w.outcome);
    CHECK(w.outcome->committed);
    CHECK(rig.requeued().empty());
}

TEST_CASE("a batch waits until its seal record is on disk, spending no attempt") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"a\":1}\n", 1);
    b.seal_lsn = 7;
    ScriptedSender sender([](std::string_view) { return ok(); });
    rig.flusher->deliver(b, sender);
    CHECK(sender.bodies.empty());  // a kill -9 now could not rebuild it byte for byte
    auto back = rig.requeued();
    REQUIRE(back.size() == 1);
    CHECK(back[0].attempts == 0);
    CHECK(back[0].not_before > Clock::now() - std::chrono::seconds(1));
    owner->logged_upto = 7;
    rig.flusher->deliver(back[0], sender);
    CHECK(sender.bodies.size() == 1);
}

TEST_CASE("a batch whose table is getting a new column waits, spending no attempt") {
    Rig rig;
    bool adding = true;
    std::vector<std::string> asked;
    rig.flusher->on_waits_for_columns([&](const flush::BatchTarget& t) {
        asked.push_back(t.files.database + "." + t.insert_table);
        return adding;
    });
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"a\":1}\n", 1);
    ScriptedSender sender([](std::string_view) { return ok(); });
    rig.flusher->deliver(b, sender);
    CHECK(sender.bodies.empty());
    CHECK(asked == std::vector<std::string>{"default.events"});
    auto back = rig.requeued();
    REQUIRE(back.size() == 1);
    CHECK(back[0].attempts == 0);
    CHECK(back[0].not_before > Clock::now());
    adding = false;  // the column is on every server
    rig.flusher->deliver(back[0], sender);
    CHECK(sender.bodies.size() == 1);
}

TEST_CASE("a transient failure sends the batch back with a backoff, its rows and requests kept") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"a\":1}\n", 1);
    Waiter w(b);
    ScriptedSender sender([](std::string_view) { return transient(); });
    const auto before = Clock::now();
    rig.flusher->deliver(b, sender);
    CHECK(owner->events == std::vector<std::string>{"sent failed", "failed, retry"});
    CHECK(owner->last_error == "Connection refused");
    CHECK_FALSE(w.outcome);  // still waiting: the batch is not finished
    auto back = rig.requeued();
    REQUIRE(back.size() == 1);
    CHECK(back[0].attempts == 1);
    CHECK(back[0].not_before > before);
    CHECK(back[0].rows == "{\"a\":1}\n");
    CHECK(back[0].waiters.size() == 1);
}

TEST_CASE("out of retries, a batch goes to the spool and its requests hear it will be delivered") {
    Rig rig;
    config::TableConfig tcfg;
    tcfg.retry_attempts = 1;
    auto owner = std::make_shared<FakeOwner>(tcfg);
    auto b = rig.take(owner, "{\"a\":1}\n", 1);
    b.attempts = 1;  // the retry it had
    Waiter w(b);
    ScriptedSender sender([](std::string_view) { return transient(); });
    rig.flusher->deliver(b, sender);
    CHECK(owner->events ==
          std::vector<std::string>{"sent failed", "failed", "spooled", "released"});
    REQUIRE(w.outcome);
    CHECK_FALSE(w.outcome->committed);
    CHECK_THAT(w.outcome->error, Catch::Contains("spooled on disk and will be delivered"));
    CHECK(rig.storage->spool().oldest_per_target().size() == 1);
    CHECK(rig.requeued().empty());
}

TEST_CASE("out of retries with no room on disk, a batch stays in memory and is tried again") {
    Rig rig(true, 1);  // storage.max_disk of one byte: nothing fits
    config::TableConfig tcfg;
    tcfg.retry_attempts = 0;
    auto owner = std::make_shared<FakeOwner>(tcfg);
    auto b = rig.take(owner, "{\"a\":1}\n", 1);
    ScriptedSender sender([](std::string_view) { return transient(); });
    rig.flusher->deliver(b, sender);
    CHECK(owner->events == std::vector<std::string>{"sent failed", "failed, retry"});
    CHECK(rig.requeued().size() == 1);
}

TEST_CASE("out of retries under SendToDLQ, every row goes to the dead letters") {
    Rig rig;
    config::TableConfig tcfg;
    tcfg.retry_attempts = 0;
    tcfg.failure_strategy = config::FailureStrategy::send_to_dlq;
    auto owner = std::make_shared<FakeOwner>(tcfg);
    auto b = rig.take(owner, "{\"a\":1}\n{\"a\":2}\n", 2);
    Waiter w(b);
    ScriptedSender sender([](std::string_view) { return transient(); });
    rig.flusher->deliver(b, sender);
    CHECK(dead_rows(*rig.storage) == 2);
    CHECK(owner->done == store::DoneOutcome::quarantined);
    REQUIRE(w.outcome);
    CHECK_THAT(w.outcome->error, Catch::StartsWith("out of retries: "));
}

TEST_CASE("bad rows are isolated by bisection: the good go in, the bad to the dead letters") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"a\":1}\n{\"bad\":1}\n{\"a\":3}\n{\"a\":4}\n{\"bad\":2}\n", 5);
    Waiter good, bad;
    good.owns(b, 0, 1);
    bad.owns(b, 1, 1);
    good.owns(b, 2, 2);
    bad.owns(b, 4, 1);
    good.armed();
    bad.armed();
    ScriptedSender sender(refuse_bad);
    rig.flusher->deliver(b, sender);
    CHECK(owner->inserted_rows == 3);
    CHECK(owner->bad_rows == 2);
    CHECK(dead_rows(*rig.storage) == 2);
    CHECK(owner->done == store::DoneOutcome::quarantined);
    // Set aside by row number: the whole batch, then without each bad row.
    CHECK(sender.bodies.size() == 3);
    CHECK(sender.bodies.back() == "{\"a\":1}\n{\"a\":3}\n{\"a\":4}\n");
    REQUIRE(good.outcome);
    CHECK(good.outcome->committed);
    REQUIRE(bad.outcome);
    CHECK_FALSE(bad.outcome->committed);
    CHECK(bad.outcome->rejected);
    CHECK_THAT(bad.outcome->error, Catch::Contains("Code 27"));
    // Its row shared INSERTs with the other request's rows: their text is not quoted.
    CHECK_THAT(bad.outcome->error, !Catch::Contains("Cannot parse input"));
}

TEST_CASE(
    "under on_invalid: quarantine, refused rows go to the quarantine sink, else dead letters") {
    for (const bool sink_takes : {true, false}) {
        Rig rig;
        config::TableConfig tcfg;
        tcfg.on_invalid = config::OnInvalid::quarantine;
        auto owner = std::make_shared<FakeOwner>(tcfg);
        std::vector<std::string> sunk;
        rig.flusher->on_quarantine([&](flush::BatchOwner& o, std::uint64_t id,
                                       std::span<const store::DeadRow> rows, std::string& error) {
            CHECK(&o == owner.get());
            CHECK(id == 101);
            if (!sink_takes) {
                error = "its quota is full";
                return false;
            }
            for (const auto& r : rows) {
                CHECK(r.code == 27);
                sunk.emplace_back(r.row);
            }
            return true;
        });
        auto b = rig.take(owner, "{\"a\":1}\n{\"bad\":1}\n{\"a\":3}\n{\"bad\":2}\n", 4);
        ScriptedSender sender(refuse_bad);
        rig.flusher->deliver(b, sender);
        CHECK(owner->inserted_rows == 2);
        CHECK(owner->done == store::DoneOutcome::quarantined);
        if (sink_takes) {
            CHECK(sunk == std::vector<std::string>{"{\"bad\":1}", "{\"bad\":2}"});
            CHECK(dead_rows(*rig.storage) == 0);
            CHECK(owner->bad_rows == 0);
        } else {
            CHECK(dead_rows(*rig.storage) == 2);  // the fallback
            CHECK(owner->bad_rows == 2);
        }
    }
}

TEST_CASE("rows given up on, not refused, go to the dead letters even under quarantine") {
    Rig rig;
    config::TableConfig tcfg;
    tcfg.on_invalid = config::OnInvalid::quarantine;
    tcfg.failure_strategy = config::FailureStrategy::send_to_dlq;
    tcfg.retry_attempts = 0;
    auto owner = std::make_shared<FakeOwner>(tcfg);
    bool sunk = false;
    rig.flusher->on_quarantine([&](flush::BatchOwner&, std::uint64_t,
                                   std::span<const store::DeadRow>,
                                   std::string&) { return sunk = true; });
    auto b = rig.take(owner, "{\"a\":1}\n", 1);
    ScriptedSender sender([](std::string_view) { return transient(); });
    rig.flusher->deliver(b, sender);
    CHECK_FALSE(sunk);
    CHECK(dead_rows(*rig.storage) == 1);
}

TEST_CASE("under LogAndContinue, bad rows are dropped and counted, not dead-lettered") {
    Rig rig;
    config::TableConfig tcfg;
    tcfg.failure_strategy = config::FailureStrategy::log_and_continue;
    auto owner = std::make_shared<FakeOwner>(tcfg);
    auto b = rig.take(owner, "{\"a\":1}\n{\"bad\":1}\n", 2);
    ScriptedSender sender(refuse_bad);
    rig.flusher->deliver(b, sender);
    CHECK(owner->bad_rows == 1);
    CHECK(dead_rows(*rig.storage) == 0);
    CHECK(std::count(owner->events.begin(), owner->events.end(), "bad rows dropped") == 1);
}

TEST_CASE("under FailBatch, one bad row sends the whole batch to the dead letters") {
    Rig rig;
    config::TableConfig tcfg;
    tcfg.failure_strategy = config::FailureStrategy::fail_batch;
    auto owner = std::make_shared<FakeOwner>(tcfg);
    auto b = rig.take(owner, "{\"a\":1}\n{\"bad\":1}\n{\"a\":3}\n", 3);
    ScriptedSender sender(refuse_bad);
    rig.flusher->deliver(b, sender);
    CHECK(sender.bodies.size() == 1);  // no bisection
    CHECK(dead_rows(*rig.storage) == 3);
    CHECK(owner->inserted_rows == 0);
}

TEST_CASE("a bisection cut short delivers part of the batch and retries only the rest") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"bad\":1}\n{\"a\":2}\n{\"a\":3}\n", 3);
    Waiter w(b);
    int calls = 0;
    // The whole batch is refused for its first row; then ClickHouse goes away.
    ScriptedSender sender(
        [&](std::string_view rows) { return ++calls == 1 ? refuse_bad(rows) : transient(); });
    rig.flusher->deliver(b, sender);
    CHECK(owner->bad_rows == 1);
    CHECK(owner->rows_left == 1);  // the bad row, settled in the dead letters
    CHECK(dead_rows(*rig.storage) == 1);
    CHECK_FALSE(w.outcome);  // its other rows are still to go
    auto back = rig.requeued();
    REQUIRE(back.size() == 1);
    CHECK(back[0].rows == "{\"a\":2}\n{\"a\":3}\n");
    CHECK(back[0].row_count == 2);
    CHECK(back[0].had_bad_rows);
    // The rest goes in: the request hears of its refused row at the end.
    ScriptedSender healthy([](std::string_view) { return ok(); });
    rig.flusher->deliver(back[0], healthy);
    REQUIRE(w.outcome);
    CHECK_FALSE(w.outcome->committed);
    CHECK(w.outcome->rejected);
    CHECK(owner->done == store::DoneOutcome::quarantined);
}

TEST_CASE("dead letters that cannot be written keep the bad rows in the batch") {
    Rig rig(true, 1);  // storage.max_disk of one byte: the dead letters refuse
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"a\":1}\n{\"bad\":1}\n", 2);
    ScriptedSender sender(refuse_bad);
    rig.flusher->deliver(b, sender);
    auto back = rig.requeued();
    REQUIRE(back.size() == 1);
    CHECK(back[0].rows == "{\"bad\":1}\n");  // the good row went in
    CHECK_THAT(owner->last_error, Catch::StartsWith("dead letters unwritable"));
    CHECK_FALSE(owner->done);
}

TEST_CASE("a refusal of the column list rejects every row without bisection") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"a\":1}\n{\"a\":2}\n", 2);
    Waiter w(b);
    ScriptedSender sender([](std::string_view) {
        return clickhouse::InsertOutcome{ErrorClass::reject, 16, "There is no column `x`"};
    });
    rig.flusher->deliver(b, sender);
    CHECK(sender.bodies.size() == 1);
    CHECK(dead_rows(*rig.storage) == 2);
    REQUIRE(w.outcome);
    CHECK(w.outcome->rejected);
    CHECK_THAT(w.outcome->error, Catch::Contains("There is no column"));
}

TEST_CASE("an INSERT refused for the table's columns or rows says the schema may have changed") {
    Rig rig;
    std::vector<std::string> suspects;
    rig.flusher->on_schema_suspect([&](const flush::BatchTarget& t) {
        suspects.push_back(t.files.database + "." + t.insert_table);
    });
    auto owner = std::make_shared<FakeOwner>();
    auto ok_batch = rig.take(owner, "{\"a\":1}\n", 1);
    ScriptedSender fine([](std::string_view) { return ok(); });
    rig.flusher->deliver(ok_batch, fine);
    auto busy = rig.take(owner, "{\"a\":1}\n", 1);
    ScriptedSender down([](std::string_view) {
        return clickhouse::InsertOutcome{ErrorClass::retry, 252, "Too many parts"};
    });
    rig.flusher->deliver(busy, down);
    CHECK(suspects.empty());  // neither success nor server trouble
    auto refused = rig.take(owner, "{\"a\":1}\n", 1);
    ScriptedSender column([](std::string_view) {
        return clickhouse::InsertOutcome{ErrorClass::reject, 16, "There is no column `x`"};
    });
    rig.flusher->deliver(refused, column);
    CHECK(suspects == std::vector<std::string>{"default.events"});
    auto gone = rig.take(owner, "{\"a\":1}\n", 1);
    ScriptedSender missing([](std::string_view) { return missing_table(); });
    rig.flusher->deliver(gone, missing);
    CHECK(suspects.size() == 2);
}

TEST_CASE("a missing table holds the owner; then one batch per probe interval tries") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    auto first = rig.take(owner, "{\"a\":1}\n", 1);
    auto second = rig.take(owner, "{\"a\":2}\n", 1);
    auto third = rig.take(owner, "{\"a\":3}\n", 1);
    ScriptedSender sender([](std::string_view) { return missing_table(); });
    rig.flusher->deliver(first, sender);
    CHECK(owner->held());
    CHECK(owner->events == std::vector<std::string>{"hold"});
    rig.flusher->deliver(second, sender);  // probes, and takes the interval's slot
    rig.flusher->deliver(third, sender);   // waits for the next slot: no INSERT
    CHECK(sender.bodies.size() == 2);
    auto back = rig.requeued();
    REQUIRE(back.size() == 3);
    for (const auto& b : back) {
        CHECK(b.attempts == 0);  // a hold spends no retries
        CHECK(b.not_before > Clock::now());
    }
}

TEST_CASE("the first success after a hold releases the owner's waiting batches") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    owner->hold("Code 60: no table", Clock::now());
    auto waiting = rig.take(owner, "{\"a\":1}\n", 1);
    waiting.not_before = Clock::now() + 1h;
    rig.queue.retry(std::move(waiting));  // backing off, as a held batch does
    auto probe = rig.take(owner, "{\"a\":2}\n", 1);
    ScriptedSender sender([](std::string_view) { return ok(); });
    rig.flusher->deliver(probe, sender);
    CHECK_FALSE(owner->held());
    auto ready = rig.queue.pop();  // would block an hour without the release
    REQUIRE(ready);
    CHECK(ready->rows == "{\"a\":1}\n");
}

TEST_CASE("a batch held longer than hold_max goes to the dead letters") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    auto b = rig.take(owner, "{\"a\":1}\n", 1);
    b.first_append = Clock::now() - rig.cfg.hold_max - 1s;
    Waiter w(b);
    ScriptedSender sender([](std::string_view) { return missing_table(); });
    rig.flusher->deliver(b, sender);
    CHECK(dead_rows(*rig.storage) == 1);
    REQUIRE(w.outcome);
    CHECK_THAT(w.outcome->error, Catch::StartsWith("waited longer than clickhouse.hold_max"));
    CHECK(rig.requeued().empty());
}

TEST_CASE("a table served by default that does not exist is refused, not held") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>(config::TableConfig{}, false);
    auto b = rig.take(owner, "{\"a\":1}\n", 1);
    ScriptedSender sender([](std::string_view) { return missing_table(); });
    rig.flusher->deliver(b, sender);
    CHECK_FALSE(owner->held());
    CHECK(owner->events.front() == "missing");
    CHECK(dead_rows(*rig.storage) == 1);
    CHECK(owner->done == store::DoneOutcome::quarantined);
}

TEST_CASE("at a shutdown out of time, batches only in memory are spooled") {
    Rig rig;
    auto owner = std::make_shared<FakeOwner>();
    std::vector<flush::Batch> left(3);
    for (std::size_t i = 0; i < left.size(); ++i) {
        auto& b = left[i];
        b.id = 200 + i;
        b.owner = owner;
        b.rows = "{\"a\":1}\n";
        b.row_count = 1;
    }
    left[1].first_lsn = left[1].last_lsn = 7;  // in a write-ahead log already
    const auto l = rig.flusher->put_away(std::move(left));
    CHECK(l.spooled == 2);
    CHECK(l.on_disk == 1);
    CHECK(l.lost == 0);
}

TEST_CASE("a table's distributed setting reaches every INSERT of its batches") {
    Rig rig;
    config::TableConfig tcfg;
    tcfg.distributed = true;
    auto owner = std::make_shared<FakeOwner>(tcfg);
    auto b = rig.take(owner, "{\"a\":1}\n{\"bad\":1}\n", 2);
    ScriptedSender sender(refuse_bad);
    rig.flusher->deliver(b, sender);
    CHECK(sender.distributed == std::vector<bool>(sender.bodies.size(), true));
    auto plain = std::make_shared<FakeOwner>();
    auto c = rig.take(plain, "{\"a\":1}\n", 1);
    ScriptedSender other([](std::string_view) { return ok(); });
    rig.flusher->deliver(c, other);
    CHECK(other.distributed == std::vector<bool>{false});
}
