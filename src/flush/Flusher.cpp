#include "flush/Flusher.hpp"
#include "util/ThreadName.hpp"

#include <random>

#include "batch/TableBuffer.hpp"
#include "clickhouse/Compressor.hpp"
#include "clickhouse/ErrorClassifier.hpp"
#include "clickhouse/HttpClient.hpp"
#include "clickhouse/InsertRequest.hpp"
#include "clickhouse/ServerMonitor.hpp"
#include "store/Wal.hpp"
#include "util/Log.hpp"

namespace chgate::flush {

using namespace std::chrono_literals;

Flusher::Flusher(FlushQueue& queue, const config::ClickHouseConfig& cfg,
                 clickhouse::ServerMonitor& monitor)
    : queue_(queue), cfg_(cfg), monitor_(monitor), retry_(500ms, 30s, 2.0) {}

Flusher::~Flusher() {
    join();
}

void Flusher::start() {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < cfg_.max_concurrent_inserts; ++i) {
        ++running_;
        threads_.emplace_back([this, i] {
            set_thread_name("chgate-flush-" + std::to_string(i));
            run();
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

void Flusher::run() {
    clickhouse::HttpClient client({cfg_.user, cfg_.password}, cfg_.timeout);
    clickhouse::Compressor compressor;
    std::string scratch;
    while (auto b = queue_.pop())
        deliver(*b, client, compressor, scratch);
    std::lock_guard lock(mutex_);
    --running_;
    exited_.notify_all();
}

void Flusher::deliver(batch::Batch& b, clickhouse::HttpClient& client,
                      clickhouse::Compressor& compressor, std::string& scratch) {
    auto& buffer = *b.source;
    auto& table = buffer.table();
    const auto& tcfg = table.config();
    const auto server = monitor_.info();

    // 18.16 refuses zstd bodies (Code 89); fall back to gzip where the probe says so.
    auto method = tcfg.compression;
    if (method == config::Compression::zstd && !server->zstd_body) {
        method = config::Compression::gzip;
    }
    clickhouse::HttpResponse response;
    const char* encoding = nullptr;
    try {
        encoding = compressor.compress(method, b.rows, scratch);
        const std::string_view body = encoding != nullptr ? std::string_view(scratch) : b.rows;
        response = client.post(
            clickhouse::build_insert_url(cfg_.url, buffer.insert_query(), *server), body, encoding);
    } catch (const std::exception& e) {
        // Only allocation or a library failure lands here; treat it as transient.
        response = {};
        response.transport_error = std::string("local error: ") + e.what();
    }
    ++b.attempts;
    const auto now = batch::Clock::now();
    const auto outcome = clickhouse::classify(response);
    const auto sent = encoding != nullptr ? scratch.size() : b.rows.size();

    if (outcome.error_class == clickhouse::ErrorClass::none) {
        monitor_.report_success();
        table.on_inserted(b.id, b.row_count, b.rows.size(), sent, response.elapsed, b.attempts,
                          now);
        buffer.on_flushed({b.row_count, response.elapsed, b.reason, true});
        finish(b, store::DoneOutcome::committed, {});
        return;
    }

    if (!response.transport_ok) monitor_.report_unreachable(outcome.message);
    buffer.on_flushed({b.row_count, response.elapsed, b.reason, false});
    const std::string error = outcome.code != 0 ? "Code " + std::to_string(outcome.code) + " (" +
                                                      clickhouse::to_string(outcome.error_class) +
                                                      "): " + outcome.message
                                                : outcome.message;
    // Bad rows fail the same way every time: retrying cannot help.
    const bool bad_rows = outcome.error_class == clickhouse::ErrorClass::quarantine;
    // Durably acknowledged rows are never given up: past retry_attempts they
    // are retried at the backoff ceiling until ClickHouse takes them.
    const bool durable = b.last_lsn != 0;
    if (!bad_rows && (b.attempts <= tcfg.retry_attempts || durable)) {
        thread_local std::minstd_rand rng{std::random_device{}()};
        const auto wait = retry_.delay(b.attempts, std::uniform_real_distribution<>(0, 1)(rng));
        table.on_attempt_failed(b.id, b.row_count, b.attempts, error, wait, true);
        b.not_before = now + wait;
        queue_.retry(std::move(b));
        return;
    }
    table.on_attempt_failed(b.id, b.row_count, b.attempts, error, 0ms, false);
    table.on_dropped(
        b.id, b.row_count, b.rows.size(),
        bad_rows ? "ClickHouse rejected the rows"
                 : "no retries left (retry_attempts: " + std::to_string(tcfg.retry_attempts) + ")");
    batch::CommitOutcome failed{false, bad_rows, error};
    finish(b, bad_rows ? store::DoneOutcome::quarantined : store::DoneOutcome::dropped, failed);
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
    buffer.table().release(b.rows.size());
    queue_.finish();
}

}  // namespace chgate::flush
