#include "flush/Flusher.hpp"

#include <random>

#include "flush/BatchOwner.hpp"
#include "flush/Bisector.hpp"
#include "flush/RequestOutcomes.hpp"
#include "store/DeadLetters.hpp"
#include "store/Spool.hpp"
#include "store/Storage.hpp"
#include "util/Log.hpp"
#include "util/ThreadName.hpp"

namespace chgate::flush {

using namespace std::chrono_literals;
using clickhouse::ErrorClass;

namespace {
// How long a batch whose seal record is not on disk yet waits before it is
// looked at again: about one group commit of the log writer.
constexpr auto kSealWait = 2ms;
// An encoded (RowBinary) body's buffer kept by a flusher thread, at most.
constexpr std::size_t kKeepEncoded = 16u << 20;
// A batch whose table is getting a new column looks again this often.
constexpr auto kColumnWait = std::chrono::milliseconds(100);
}  // namespace

Flusher::Flusher(FlushQueue& queue, const config::ClickHouseConfig& cfg,
                 clickhouse::SenderFactory senders, store::Storage* storage)
    : queue_(queue),
      cfg_(cfg),
      senders_(std::move(senders)),
      storage_(storage),
      dead_letters_(storage != nullptr ? &storage->dead_letters() : nullptr),
      retry_(cfg.retry_initial, cfg.retry_max, cfg.retry_multiplier) {}

Flusher::~Flusher() {
    join();
}

void Flusher::start() {
    LockGuard lock(mutex_);
    for (int i = 0; i < cfg_.max_concurrent_inserts; ++i) {
        ++running_;
        threads_.emplace_back([this, i] {
            set_thread_name("chgate-flush-" + std::to_string(i));
            run();
        });
    }
}

bool Flusher::wait_until_drained(std::chrono::steady_clock::time_point deadline) {
    UniqueLock lock(mutex_);
    while (running_ > 0) {
        if (exited_.wait_until(lock, deadline) == std::cv_status::timeout) return running_ == 0;
    }
    return true;
}

void Flusher::join() {
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

void Flusher::run() {
    const auto sender = senders_();
    while (auto b = queue_.pop()) {
        try {
            deliver(*b, *sender);
        } catch (const std::exception& e) {
            // A bug or an allocation failure must not end the process. A batch
            // still held here (deliver() had not handed it on) is tried again.
            LOG_ERROR << "flusher: delivering a batch failed: " << e.what();
            if (b->owner) retry_later(*b, std::string("local error: ") + e.what());
        }
    }
    LockGuard lock(mutex_);
    --running_;
    exited_.notify_all();
}

clickhouse::SendResult Flusher::attempt(const Batch& b, std::string_view rows,
                                        clickhouse::Sender& sender) {
    const auto& owner = *b.owner;
    const auto settings = owner.settings();
    auto send = [&](const std::string& query, std::string_view encoded) {
        return sender.send({query, rows, b.id, settings->compression, settings->distributed,
                            owner.target().shard,
                            settings->unknown_fields == config::UnknownFields::ignore, encoded});
    };
    if (settings->insert_format == config::InsertFormat::rowbinary && encode_) {
        // Kept per flusher thread: a batch's body is built again for each attempt.
        thread_local std::string query;
        thread_local std::string body;
        body.clear();
        if (encode_(owner.target(), *settings, rows, query, body)) {
            auto result = send(query, body);
            // A rare large batch does not keep its size for the thread's life.
            if (body.capacity() > kKeepEncoded) std::string().swap(body);
            return result;
        }
    }
    return send(owner.target().insert_query, {});
}

void Flusher::deliver(Batch& b, clickhouse::Sender& sender) {
    auto& owner = *b.owner;
    const auto now = Clock::now();
    if (!owner.seal_logged(b)) {
        // Its seal record is a group commit away: back in a moment, no retry spent.
        b.not_before = now + kSealWait;
        queue_.retry(std::move(b));
        return;
    }
    if (waits_for_columns_ && waits_for_columns_(owner.target())) {
        b.not_before = now + kColumnWait;
        queue_.retry(std::move(b));
        return;
    }
    if (waits_for_probe(b, now)) return;
    const auto a = attempt(b, b.rows, sender);
    auto error_class = a.outcome.error_class;
    if (error_class == ErrorClass::hold && !owner.configured() &&
        (a.outcome.code == 60 || a.outcome.code == 81)) {
        // A table served by default that does not exist in ClickHouse: the
        // client named it, so its rows are refused, not held; for a while
        // requests for it are refused at the door.
        owner.mark_missing(now + cfg_.hold_probe_interval);
        error_class = ErrorClass::reject;
    }
    // Bad rows, a column or the table missing: what chgate knows of the
    // table's columns may be stale.
    if (schema_suspect_ && (error_class == ErrorClass::quarantine ||
                            error_class == ErrorClass::reject || a.outcome.code == 60)) {
        schema_suspect_(owner.target());
    }
    b.last_code = a.outcome.code;
    b.last_replica = a.replica;
    if (error_class == ErrorClass::hold) return on_held(b, a.outcome, now);
    ++b.attempts;
    if (error_class == ErrorClass::none) return on_committed(b, a);
    owner.on_sent(b, false, a.response.elapsed);
    const std::string error = a.outcome.code != 0 ? "Code " + std::to_string(a.outcome.code) +
                                                        " (" + clickhouse::to_string(error_class) +
                                                        "): " + a.outcome.message
                                                  : a.outcome.message;
    if (error_class == ErrorClass::quarantine) {
        owner.on_attempt_failed(b, error, 0ms, false);
        on_bad_rows(b, a.outcome, sender);
        return;
    }
    if (error_class == ErrorClass::reject) {
        owner.on_attempt_failed(b, error, 0ms, false);
        on_rejected(b, a.outcome);
        return;
    }
    on_transient(b, a.outcome, error);
}

bool Flusher::waits_for_probe(Batch& b, TimePoint now) {
    // A held buffer tries one batch per hold_probe_interval; the others wait,
    // each at most hold_max, then go to the dead letters.
    TimePoint next;
    if (!b.owner->held() || b.owner->claim_probe(now, cfg_.hold_probe_interval, next)) {
        return false;
    }
    const auto give_up_at = b.first_append + cfg_.hold_max;
    if (now >= give_up_at) {
        give_up_held(b, {});
    } else {
        b.not_before = std::min(next, give_up_at);
        queue_.retry(std::move(b));
    }
    return true;
}

void Flusher::on_held(Batch& b, const clickhouse::InsertOutcome& outcome, TimePoint now) {
    // The target is wrong, not the rows: keep them, and do not spend retries.
    b.owner->hold(describe(outcome), now);
    const auto give_up_at = b.first_append + cfg_.hold_max;
    if (now >= give_up_at) return give_up_held(b, outcome);
    b.not_before = std::min(now + cfg_.hold_probe_interval, give_up_at);
    queue_.retry(std::move(b));
}

void Flusher::on_committed(Batch& b, const clickhouse::SendResult& a) {
    auto& owner = *b.owner;
    // The first success after a hold lets the buffer's waiting batches go.
    if (owner.release_hold()) queue_.release_delayed(&owner);
    owner.on_sent(b, true, a.response.elapsed);
    owner.on_inserted(b, a.sent_bytes, a.response.elapsed);
    RequestOutcomes outcomes(std::move(b.refused));
    finish(b, b.had_bad_rows ? store::DoneOutcome::quarantined : store::DoneOutcome::committed,
           outcomes);
}

namespace {

/// Every row of a batch as a dead letter with the same code and message.
std::vector<store::DeadRow> every_row(std::string_view rows, int code, const std::string& message) {
    std::vector<store::DeadRow> out;
    for (std::size_t pos = 0; pos < rows.size();) {
        auto nl = rows.find('\n', pos);
        if (nl == std::string_view::npos) nl = rows.size();  // no newline after the last row
        out.push_back({rows.substr(pos, nl - pos), code, message});
        pos = nl + 1;
    }
    return out;
}

/// Whether every row of `b` came from the request `w` (so that ClickHouse's
/// message about the batch quotes only that request's rows).
bool owns_all(const Batch& b, const CommitWaiterPtr& w) {
    std::uint64_t rows = 0;
    for (const auto& r : b.waiters) {
        if (r.waiter == w) rows += r.count;
    }
    return rows == b.row_count;
}

/// The rows at `positions` (ascending) of `rows`, as NDJSON.
std::string pick_rows(std::string_view rows, const std::vector<std::size_t>& starts,
                      std::span<const std::size_t> positions) {
    std::string out;
    for (const auto p : positions)
        out.append(rows.substr(starts[p], starts[p + 1] - starts[p]));
    return out;
}

}  // namespace

std::string Flusher::describe(const clickhouse::InsertOutcome& o) {
    return o.code != 0 ? "Code " + std::to_string(o.code) + ": " + o.message : o.message;
}

void Flusher::give_up_held(Batch& b, const clickhouse::InsertOutcome& last) {
    if (dead_letters_ == nullptr) {
        // Nowhere to keep them (tests without storage): wait, as before hold_max.
        b.not_before = Clock::now() + cfg_.hold_probe_interval;
        queue_.retry(std::move(b));
        return;
    }
    const std::string reason =
        "waited longer than clickhouse.hold_max (" + config::format_duration(cfg_.hold_max) +
        "): " + (last.error_class == ErrorClass::hold ? describe(last) : b.owner->hold_reason());
    const auto all = every_row(b.rows, last.code, reason);
    // Not a refusal of the rows: kept whatever the failure_strategy.
    if (!settle_bad_rows(b, all, 0, 0, Keep::always)) return;
    LOG_ERROR << log::table(b.owner->target().table) << log::batch_id(b.id)
              << log::rows(b.row_count) << b.owner->target().label << ": batch " << b.id << " ("
              << b.row_count << " rows) went to the dead letters: " << reason;
    RequestOutcomes outcomes(std::move(b.refused));
    finish(b, store::DoneOutcome::quarantined, outcomes, [&](const CommitWaiterPtr&) {
        return CommitOutcome{false, false, reason + "; the rows are in the dead letters"};
    });
}

void Flusher::on_rejected(Batch& b, const clickhouse::InsertOutcome& refusal) {
    // Every row fails the same way (the column list names a column the table
    // lacks): no bisection. The message is about the column list, which every
    // request in this buffer sent alike.
    const auto all = every_row(b.rows, refusal.code, refusal.message);
    if (!settle_bad_rows(b, all, 0, 0)) return;
    RequestOutcomes outcomes(std::move(b.refused));
    outcomes.refuse_all(b.waiters, [&](const WaiterRows&) { return describe(refusal); });
    finish(b, store::DoneOutcome::quarantined, outcomes);
}

void Flusher::on_transient(Batch& b, const clickhouse::InsertOutcome& failure,
                           const std::string& error) {
    auto& owner = *b.owner;
    const auto settings = owner.settings();
    if (b.attempts <= settings->retry_attempts) return retry_later(b, error);
    // Out of retries.
    if (settings->failure_strategy == config::FailureStrategy::send_to_dlq &&
        dead_letters_ != nullptr) {
        const auto all = every_row(b.rows, failure.code, "out of retries: " + failure.message);
        owner.on_attempt_failed(b, error, 0ms, false);
        if (!settle_bad_rows(b, all, 0, 0, Keep::always)) return;
        RequestOutcomes outcomes(std::move(b.refused));
        finish(b, store::DoneOutcome::quarantined, outcomes, [&](const CommitWaiterPtr& w) {
            return CommitOutcome{
                false, false,
                "out of retries: " +
                    message_for_request(failure.code, failure.message, owns_all(b, w)) +
                    "; the rows are in the dead letters"};
        });
        return;
    }
    spool_or_keep(b, failure, error);
}

void Flusher::spool_or_keep(Batch& b, const clickhouse::InsertOutcome& failure,
                            const std::string& error) {
    auto& owner = *b.owner;
    // Already on disk: leave memory; the spool replay brings it back later.
    if (!b.spool_path.empty()) {
        owner.on_attempt_failed(b, error, 0ms, false);
        storage_->spool().unload(b.spool_path);
        return let_go(b);
    }
    if (storage_ != nullptr && storage_->disk_has_room(b.rows.size())) {
        store::SpoolEntry entry;
        std::string spool_error;
        if (storage_->spool().put(owner.target().files, b.id, b.rows, b.row_count, spool_error,
                                  entry)) {
            owner.on_attempt_failed(b, error, 0ms, false);
            // The spool holds the rows now: the log need not replay them.
            owner.on_spooled(b, error);
            RequestOutcomes(std::move(b.refused)).report(b.waiters, [&](const CommitWaiterPtr& w) {
                return CommitOutcome{
                    false, false,
                    message_for_request(failure.code, failure.message, owns_all(b, w)) +
                        "; the events are spooled on disk and will be delivered"};
            });
            b.waiters.clear();
            storage_->spool().unload(entry.path);
            return let_go(b);
        }
        LOG_ERROR << owner.target().label << ": cannot spool batch " << b.id << ": " << spool_error
                  << "; keeping it in memory";
    }
    // No room on disk: the batch stays in memory, retried at the backoff cap;
    // the table answers 429 once its max_memory is in use. Nothing is dropped.
    retry_later(b, error);
}

void Flusher::let_go(Batch& b) {
    b.owner->on_released(b);
    queue_.finish();
}

Flusher::BadRows Flusher::refuse_whole_batch(Batch& b, const clickhouse::InsertOutcome& refusal,
                                             RequestOutcomes& outcomes) {
    // FailBatch: the whole batch is quarantined, good rows with the bad.
    BadRows out;
    out.dead = every_row(b.rows, refusal.code, refusal.message);
    outcomes.refuse_all(b.waiters, [&](const WaiterRows& r) {
        return "the batch was refused (failure_strategy FailBatch): " +
               message_for_request(refusal.code, refusal.message, owns_all(b, r.waiter));
    });
    out.unsettled.resize(b.row_count);
    for (std::size_t i = 0; i < out.unsettled.size(); ++i)
        out.unsettled[i] = i;
    return out;
}

Flusher::BadRows Flusher::isolate_bad_rows(Batch& b, const clickhouse::InsertOutcome& refusal,
                                           clickhouse::Sender& sender, RequestOutcomes& outcomes) {
    BadRows out;
    const auto owners = row_owners(b.waiters, b.row_count);
    out.found = bisect(
        b.rows, refusal, [&](std::string_view rows) { return attempt(b, rows, sender).outcome; },
        cfg_.max_inserts_per_batch, owners);
    const auto limit = std::to_string(cfg_.max_inserts_per_batch);
    for (const auto& r : out.found.bad_rows) {
        std::string message = r.message;
        std::string for_request =
            message_for_request(r.code, r.message, r.message_is_owners && !r.unresolved);
        if (r.unresolved) {
            message =
                "not isolated: the batch's " + limit +
                " INSERTs (clickhouse.max_inserts_per_batch) ran out; the last error: " + r.message;
            for_request = "not isolated among other requests' bad rows in " + limit +
                          " INSERTs; the last error: " + for_request;
        }
        outcomes.refuse_row(b.waiters, r.index, for_request);
        out.dead.push_back({r.row, r.code, std::move(message)});
        out.unsettled.push_back(r.index);
    }
    out.unsettled.insert(out.unsettled.end(), out.found.remainder.begin(),
                         out.found.remainder.end());
    std::sort(out.unsettled.begin(), out.unsettled.end());
    return out;
}

void Flusher::on_bad_rows(Batch& b, const clickhouse::InsertOutcome& refusal,
                          clickhouse::Sender& sender) {
    RequestOutcomes outcomes(std::move(b.refused));
    const auto bad = b.owner->settings()->failure_strategy == config::FailureStrategy::fail_batch
                         ? refuse_whole_batch(b, refusal, outcomes)
                         : isolate_bad_rows(b, refusal, sender, outcomes);
    const auto& found = bad.found;
    if (!bad.dead.empty() || found.inserted_rows > 0) {
        LOG_DEBUG << b.owner->target().label << ": batch " << b.id << ": " << found.inserts
                  << " INSERTs to isolate " << bad.dead.size() << " bad rows, " << found.successful
                  << " of them inserted rows (a part each)";
    }
    if (!settle_bad_rows(b, bad.dead, found.inserted_rows, found.inserts, Keep::per_strategy,
                         bad.unsettled, &outcomes)) {
        return;
    }
    if (found.interrupted) {
        // Settled rows leave; the rest waits for ClickHouse like any failed batch.
        keep_only(b, found.remainder, outcomes);
        b.had_bad_rows = b.had_bad_rows || !bad.dead.empty();
        retry_later(b, found.interruption.message);
        return;
    }
    const bool rejected = !bad.dead.empty() || b.had_bad_rows;
    finish(b, rejected ? store::DoneOutcome::quarantined : store::DoneOutcome::committed, outcomes);
}

void Flusher::keep_only(Batch& b, std::span<const std::size_t> kept, RequestOutcomes& outcomes) {
    const auto starts = row_starts(b.rows);
    auto rest = pick_rows(b.rows, starts, kept);
    const auto settled_bytes = b.rows.size() - rest.size();
    const auto settled_rows = b.row_count - kept.size();
    b.owner->on_rows_left(settled_rows, settled_bytes);
    auto waiters = keep_rows(b.waiters, kept);
    // Requests with no rows left in the batch hear now; the others at its end.
    b.refused = outcomes.settle(b.waiters, waiters);
    b.waiters = std::move(waiters);
    b.rows = std::move(rest);
    b.row_count = kept.size();
}

bool Flusher::settle_bad_rows(Batch& b, std::span<const store::DeadRow> bad, std::uint64_t inserted,
                              std::uint64_t inserts, Keep keep_rows,
                              std::span<const std::size_t> unsettled, RequestOutcomes* outcomes) {
    auto& owner = *b.owner;
    const auto settings = owner.settings();
    if (keep_rows == Keep::per_strategy && !bad.empty() && quarantine_ &&
        settings->on_invalid == config::OnInvalid::quarantine) {
        std::string error;
        if (quarantine_(owner, b.id, bad, error)) {
            LOG_WARN << log::table(owner.target().table) << log::batch_id(b.id)
                     << log::rows(bad.size()) << owner.target().label << ": batch " << b.id
                     << ": ClickHouse refused " << bad.size()
                     << " row(s), sent to the quarantine table; " << inserted << " inserted, "
                     << inserts << " INSERTs to isolate them. First: " << bad.front().message;
            if (inserted > 0) owner.on_bad_rows(b, inserted, 0, inserts, true, "");
            return true;
        }
        LOG_WARN << owner.target().label << ": batch " << b.id << ": " << bad.size()
                 << " refused row(s) cannot be quarantined now (" << error
                 << "); they go to the dead letters";
    }
    const bool keep = dead_letters_ != nullptr &&
                      (keep_rows == Keep::always ||
                       settings->failure_strategy != config::FailureStrategy::log_and_continue);
    if (keep && !bad.empty()) {
        std::string error;
        if (!dead_letters_->append(owner.target().files, b.id, bad, error)) {
            // The rows must not be lost: they stay in the batch and come back here.
            LOG_ERROR << owner.target().label << ": cannot write dead letters: " << error
                      << "; keeping the batch and retrying";
            if (outcomes != nullptr && unsettled.size() < b.row_count) {
                owner.on_bad_rows(b, inserted, 0, inserts, true, "");
                keep_only(b, unsettled, *outcomes);
            } else if (outcomes != nullptr) {
                b.refused = outcomes->take();
            }
            retry_later(b, "dead letters unwritable: " + error);
            return false;
        }
    }
    if (!bad.empty() || inserted > 0) {
        owner.on_bad_rows(b, inserted, bad.size(), inserts, keep,
                          bad.empty() ? std::string() : bad.front().message);
    }
    return true;
}

void Flusher::retry_later(Batch& b, const std::string& error) {
    thread_local std::minstd_rand rng{std::random_device{}()};
    const auto wait = retry_.delay(b.attempts, std::uniform_real_distribution<>(0, 1)(rng));
    b.owner->on_attempt_failed(b, error, wait, true);
    b.not_before = Clock::now() + wait;
    queue_.retry(std::move(b));
}

void Flusher::finish(Batch& b, store::DoneOutcome outcome, const RequestOutcomes& outcomes,
                     const RequestOutcomes::Otherwise& otherwise) {
    // The log need not replay a finished batch.
    b.owner->on_done(b, outcome);
    outcomes.report(b.waiters, otherwise);
    b.waiters.clear();
    if (!b.spool_path.empty()) storage_->spool().remove(b.spool_path);
    let_go(b);
}

Flusher::Leftovers Flusher::put_away(std::vector<Batch> left) {
    Leftovers l;
    for (auto& b : left) {
        if (b.last_lsn != 0 || !b.spool_path.empty()) {
            l.on_disk += b.row_count;  // in a write-ahead log, or already spooled
            continue;
        }
        store::SpoolEntry entry;
        std::string error;
        if (storage_ != nullptr && storage_->disk_has_room(b.rows.size()) &&
            storage_->spool().put(b.owner->target().files, b.id, b.rows, b.row_count, error,
                                  entry)) {
            l.spooled += b.row_count;
        } else {
            l.lost += b.row_count;
        }
    }
    return l;
}

}  // namespace chgate::flush
