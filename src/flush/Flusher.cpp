#include "flush/Flusher.hpp"

#include <random>

#include "batch/TableBuffer.hpp"
#include "clickhouse/Compressor.hpp"
#include "clickhouse/HttpClient.hpp"
#include "clickhouse/InsertRequest.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "flush/Bisector.hpp"
#include "store/DeadLetters.hpp"
#include "store/Spool.hpp"
#include "store/Storage.hpp"
#include "store/Wal.hpp"
#include "util/Log.hpp"
#include "util/ThreadName.hpp"

namespace chgate::flush {

using namespace std::chrono_literals;
using clickhouse::ErrorClass;

Flusher::Flusher(FlushQueue& queue, const config::ClickHouseConfig& cfg,
                 clickhouse::ReplicaSet& replicas, store::Storage* storage)
    : queue_(queue),
      cfg_(cfg),
      replicas_(replicas),
      storage_(storage),
      dead_letters_(storage != nullptr ? &storage->dead_letters() : nullptr),
      retry_(cfg.retry_initial, cfg.retry_max, cfg.retry_multiplier) {}

Flusher::~Flusher() {
    join();
}

void Flusher::start() {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < cfg_.max_concurrent_inserts; ++i) {
        ++running_;
        threads_.emplace_back([this, i] {
            set_thread_name("chgate-flush-" + std::to_string(i));
            run(i);
        });
    }
}

bool Flusher::wait_until_drained(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return exited_.wait_until(lock, deadline, [this] { return running_ == 0; });
}

void Flusher::join() {
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

void Flusher::run(int) {
    clickhouse::HttpClient client({cfg_.user, cfg_.password}, cfg_.timeout);
    clickhouse::Compressor compressor;
    std::string scratch;
    Worker w{client, compressor, scratch};
    while (auto b = queue_.pop())
        deliver(*b, w);
    std::lock_guard lock(mutex_);
    --running_;
    exited_.notify_all();
}

Flusher::Attempt Flusher::attempt(const batch::Batch& b, std::string_view rows, Worker& w) {
    const auto& buffer = *b.source;
    Attempt a;
    auto* replica = replicas_.pick(clickhouse::CircuitBreaker::Clock::now());
    if (replica == nullptr) {
        a.response.transport_error =
            "no ClickHouse replica can take inserts now (every circuit breaker is open)";
        a.outcome = clickhouse::classify(a.response, &cfg_.error_classes);
        return a;
    }
    const auto server = replica->monitor.info();
    // 18.16 refuses zstd bodies (Code 89); fall back to gzip where the probe says so.
    auto method = buffer.table().config()->compression;
    if (method == config::Compression::zstd && !server->zstd_body) {
        method = config::Compression::gzip;
    }
    try {
        const char* encoding = w.compressor.compress(method, rows, w.scratch);
        const std::string_view body = encoding != nullptr ? std::string_view(w.scratch) : rows;
        a.sent_bytes = body.size();
        a.response =
            w.client.post(clickhouse::build_insert_url(replica->url, buffer.insert_query(), *server,
                                                       clickhouse::dedup_token(b.id, rows)),
                          body, encoding);
    } catch (const std::exception& e) {
        // Only allocation or a library failure lands here; treat it as transient.
        a.response = {};
        a.response.transport_error = std::string("local error: ") + e.what();
    }
    a.outcome = clickhouse::classify(a.response, &cfg_.error_classes);
    // Only server trouble counts against the replica: bad rows or a missing
    // table are answers, from a server that works.
    const bool trouble = a.outcome.error_class == ErrorClass::retry;
    replicas_.report(*replica, trouble, !a.response.transport_ok, a.outcome.message);
    if (trouble && replicas_.replicas().size() > 1) {
        a.outcome.message = replica->url + ": " + a.outcome.message;
    }
    return a;
}

void Flusher::deliver(batch::Batch& b, Worker& w) {
    auto& buffer = *b.source;
    auto& table = buffer.table();
    // A held table tries one batch per hold_probe_interval; the others wait.
    if (table.held()) {
        batch::TimePoint next;
        if (!table.claim_probe(batch::Clock::now(), cfg_.hold_probe_interval, next)) {
            b.not_before = next;
            queue_.retry(std::move(b));
            return;
        }
    }
    const auto a = attempt(b, b.rows, w);
    if (a.outcome.error_class == ErrorClass::hold) {
        // The target is wrong, not the rows: keep them, and do not spend retries.
        table.hold(a.outcome.code != 0
                       ? "Code " + std::to_string(a.outcome.code) + ": " + a.outcome.message
                       : a.outcome.message,
                   batch::Clock::now());
        b.not_before = batch::Clock::now() + cfg_.hold_probe_interval;
        queue_.retry(std::move(b));
        return;
    }
    ++b.attempts;
    if (a.outcome.error_class == ErrorClass::none) {
        // The first success after a hold lets the table's waiting batches go.
        if (table.release_hold()) queue_.release_delayed(&table);
        table.on_inserted(b.id, b.row_count, b.rows.size(), a.sent_bytes, a.response.elapsed,
                          b.attempts, batch::Clock::now());
        buffer.on_flushed({b.row_count, a.response.elapsed, b.reason, true});
        finish(b, store::DoneOutcome::committed, {});
        return;
    }
    buffer.on_flushed({b.row_count, a.response.elapsed, b.reason, false});
    const std::string error = a.outcome.code != 0
                                  ? "Code " + std::to_string(a.outcome.code) + " (" +
                                        clickhouse::to_string(a.outcome.error_class) +
                                        "): " + a.outcome.message
                                  : a.outcome.message;
    if (a.outcome.error_class == ErrorClass::quarantine) {
        table.on_attempt_failed(b.id, b.row_count, b.attempts, error, 0ms, false);
        on_bad_rows(b, a.outcome, w);
        return;
    }
    on_transient(b, a.outcome, error);
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

}  // namespace

void Flusher::on_transient(batch::Batch& b, const clickhouse::InsertOutcome& failure,
                           const std::string& error) {
    auto& table = b.source->table();
    const auto tcfg = table.config();
    if (b.attempts <= tcfg->retry_attempts) return retry_later(b, error);
    // Out of retries.
    if (tcfg->failure_strategy == config::FailureStrategy::send_to_dlq &&
        dead_letters_ != nullptr) {
        const auto all = every_row(b.rows, failure.code, "out of retries: " + failure.message);
        table.on_attempt_failed(b.id, b.row_count, b.attempts, error, 0ms, false);
        if (settle_bad_rows(b, all, 0, 0)) {
            finish(b, store::DoneOutcome::quarantined, {false, false, error});
        }
        return;
    }
    spool_or_keep(b, error);
}

void Flusher::spool_or_keep(batch::Batch& b, const std::string& error) {
    auto& buffer = *b.source;
    auto& table = buffer.table();
    // Already on disk: leave memory; the spool replay brings it back later.
    if (!b.spool_path.empty()) {
        table.on_attempt_failed(b.id, b.row_count, b.attempts, error, 0ms, false);
        storage_->spool().unload(b.spool_path);
        return let_go(b);
    }
    if (storage_ != nullptr && storage_->disk_has_room(b.rows.size())) {
        store::SpoolEntry entry;
        std::string spool_error;
        const store::LogTarget target{table.database(), table.table(), buffer.columns()};
        if (storage_->spool().put(target, b.id, b.rows, b.row_count, spool_error, entry)) {
            table.on_attempt_failed(b.id, b.row_count, b.attempts, error, 0ms, false);
            table.on_spooled(b.id, b.row_count, b.attempts, error);
            // The spool holds the rows now: the log need not replay them.
            if (b.last_lsn != 0 && buffer.wal()) {
                buffer.wal()->append_done(
                    {b.id, b.first_lsn, b.last_lsn, store::DoneOutcome::spooled});
            }
            for (const auto& w : b.waiters) {
                w->batch_finished(
                    {false, false,
                     error + "; the events are spooled on disk and will be delivered"});
            }
            storage_->spool().unload(entry.path);
            return let_go(b);
        }
        LOG_ERROR << "table " << table.name() << ": cannot spool batch " << b.id << ": "
                  << spool_error << "; keeping it in memory";
    }
    // No room on disk: the batch stays in memory, retried at the backoff cap;
    // the table answers 429 once its max_memory is in use. Nothing is dropped.
    retry_later(b, error);
}

void Flusher::let_go(batch::Batch& b) {
    auto& table = b.source->table();
    table.on_settled(b.row_count, b.rows.size());
    table.on_batch_finished(b.first_append, b.sealed_at);
    table.release(b.rows.size());
    queue_.finish();
}

void Flusher::on_bad_rows(batch::Batch& b, const clickhouse::InsertOutcome& refusal, Worker& w) {
    auto& table = b.source->table();
    const auto strategy = table.config()->failure_strategy;
    std::vector<store::DeadRow> bad;
    BisectResult found;
    if (strategy == config::FailureStrategy::fail_batch) {
        // FailBatch: the whole batch is quarantined, good rows with the bad.
        bad = every_row(b.rows, refusal.code, refusal.message);
    } else {
        found = bisect(
            b.rows, refusal, [&](std::string_view rows) { return attempt(b, rows, w).outcome; },
            4 * b.row_count + 16);
        for (auto& r : found.bad_rows)
            bad.push_back({r.row, r.code, std::move(r.message)});
    }
    if (!settle_bad_rows(b, bad, found.inserted_rows, found.inserts, found.remainder,
                         found.remainder_rows)) {
        return;
    }
    if (found.interrupted) {
        // Settled rows left; the rest waits for ClickHouse like any failed batch.
        const auto settled_bytes = b.rows.size() - found.remainder.size();
        const auto settled_rows = b.row_count - found.remainder_rows;
        b.source->table().on_settled(settled_rows, settled_bytes);
        b.source->table().release(settled_bytes);
        b.rows = std::move(found.remainder);
        b.row_count = found.remainder_rows;
        // The batch's content changed: its waiters hear of the bad rows at the end.
        b.had_bad_rows = b.had_bad_rows || !bad.empty();
        retry_later(b, found.interruption.message);
        return;
    }
    const bool rejected = !bad.empty() || b.had_bad_rows;
    batch::CommitOutcome outcome;
    if (rejected) {
        outcome = {false, true,
                   std::to_string(bad.size()) + " of the batch's rows refused (" +
                       (bad.empty() ? std::string("earlier") : bad.front().message) + ")"};
    }
    finish(b, rejected ? store::DoneOutcome::quarantined : store::DoneOutcome::committed, outcome);
}

bool Flusher::settle_bad_rows(batch::Batch& b, std::span<const store::DeadRow> bad,
                              std::uint64_t inserted, std::uint64_t inserts,
                              std::string_view unresolved, std::uint64_t unresolved_rows) {
    auto& buffer = *b.source;
    auto& table = buffer.table();
    const bool keep =
        table.config()->failure_strategy != config::FailureStrategy::log_and_continue &&
        dead_letters_ != nullptr;
    if (keep && !bad.empty()) {
        std::string error;
        const store::LogTarget target{table.database(), table.table(), buffer.columns()};
        if (!dead_letters_->append(target, b.id, bad, error)) {
            // The rows must not be lost: they stay in the batch and come back here.
            LOG_ERROR << "table " << table.name() << ": cannot write dead letters: " << error
                      << "; keeping the batch and retrying";
            std::string rest;
            for (const auto& r : bad)
                rest.append(r.row).push_back('\n');
            rest.append(unresolved);
            const auto kept_rows = bad.size() + unresolved_rows;
            const auto settled = b.rows.size() - rest.size();
            table.on_settled(b.row_count - kept_rows, settled);
            table.release(settled);
            table.on_bad_rows(b.id, inserted, 0, inserts, true, "");
            b.rows = std::move(rest);
            b.row_count = kept_rows;
            retry_later(b, "dead letters unwritable: " + error);
            return false;
        }
    }
    if (!bad.empty() || inserted > 0) {
        table.on_bad_rows(b.id, inserted, bad.size(), inserts, keep,
                          bad.empty() ? std::string() : bad.front().message);
    }
    return true;
}

void Flusher::retry_later(batch::Batch& b, const std::string& error) {
    thread_local std::minstd_rand rng{std::random_device{}()};
    const auto wait = retry_.delay(b.attempts, std::uniform_real_distribution<>(0, 1)(rng));
    b.source->table().on_attempt_failed(b.id, b.row_count, b.attempts, error, wait, true);
    b.not_before = batch::Clock::now() + wait;
    queue_.retry(std::move(b));
}

void Flusher::finish(batch::Batch& b, store::DoneOutcome outcome,
                     const batch::CommitOutcome& for_waiters) {
    auto& buffer = *b.source;
    // The log need not replay a finished batch. No sync: a lost done record
    // costs a duplicate at replay, never a lost row.
    if (b.last_lsn != 0 && buffer.wal()) {
        buffer.wal()->append_done({b.id, b.first_lsn, b.last_lsn, outcome});
    }
    for (const auto& w : b.waiters)
        w->batch_finished(for_waiters);
    if (!b.spool_path.empty()) storage_->spool().remove(b.spool_path);
    let_go(b);
}

}  // namespace chgate::flush
