#include "batch/Table.hpp"

#include "util/Log.hpp"

namespace chgate::batch {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}

Table::Table(std::string name, std::string database, std::string table, config::TableConfig cfg,
             MemoryBudget& gateway, core::RateWindow& inserted_rate,
             std::shared_ptr<const Sharding> sharding)
    : name_(std::move(name)),
      database_(std::move(database)),
      table_(std::move(table)),
      cfg_(std::make_shared<const config::TableConfig>(std::move(cfg))),
      quota_(cfg_.load()->max_memory),
      gateway_(gateway),
      inserted_rate_(inserted_rate),
      sharding_(sharding),
      shard_stats_(sharding ? std::make_unique<ShardStats[]>(core::kMaxShards) : nullptr),
      shards_seen_(sharding ? static_cast<std::uint32_t>(sharding->shards()) : 0) {}

std::string Table::insert_table() const {
    const auto sharding = sharding_.load();
    return sharding ? sharding->local_table : table_;
}

void Table::reshard(std::optional<core::ShardSlots> slots) {
    const auto old = sharding_.load();
    if (!old) return;
    auto next = std::make_shared<Sharding>(*old);
    next->slots = std::move(slots);
    const auto n = static_cast<std::uint32_t>(next->shards());
    if (n > shards_seen_.load()) shards_seen_.store(n);
    sharding_.store(std::move(next));
}

void Table::retune(config::TableConfig cfg) {
    quota_.set_limit(cfg.max_memory);
    cfg_.store(std::make_shared<const config::TableConfig>(std::move(cfg)));
}

Admission Table::reserve(std::uint64_t bytes) {
    if (bytes > quota_.limit()) return Admission::too_large;
    if (!quota_.try_reserve(bytes)) return Admission::table_full;
    if (!gateway_.try_reserve(bytes)) {
        quota_.release(bytes);
        return Admission::gateway_full;
    }
    return Admission::ok;
}

void Table::force_reserve(std::uint64_t bytes) {
    quota_.force_reserve(bytes);
    gateway_.force_reserve(bytes);
}

void Table::release(std::uint64_t bytes) {
    quota_.release(bytes);
    gateway_.release(bytes);
}

void Table::on_accepted(std::uint64_t rows, std::uint64_t bytes, std::uint64_t requests) {
    stats_.requests_accepted.fetch_add(requests, kRelaxed);
    stats_.rows_accepted.fetch_add(rows, kRelaxed);
    stats_.bytes_accepted.fetch_add(bytes, kRelaxed);
}

void Table::on_invalid() {
    stats_.requests_rejected_invalid.fetch_add(1, kRelaxed);
}

void Table::on_unchecked(std::uint64_t rows) {
    stats_.rows_unchecked.fetch_add(rows, kRelaxed);
}

void Table::on_coerced(std::uint64_t rows) {
    stats_.rows_coerced.fetch_add(rows, kRelaxed);
}

void Table::on_quarantined(bool at_insert, std::uint64_t rows) {
    (at_insert ? stats_.rows_quarantined_insert : stats_.rows_quarantined_ingest)
        .fetch_add(rows, kRelaxed);
}

void Table::on_column_change(bool added) {
    (added ? stats_.columns_added : stats_.columns_failed).fetch_add(1, kRelaxed);
}

void Table::on_rejected(Admission why, std::uint64_t bytes) {
    if (why == Admission::table_full || why == Admission::gateway_full ||
        why == Admission::disk_full) {
        stats_.requests_rejected_full.fetch_add(1, kRelaxed);
    }
    LOG_DEBUG << "table " << name_ << ": refused a request of " << bytes << " bytes ("
              << (why == Admission::table_full     ? "table memory full"
                  : why == Admission::gateway_full ? "gateway memory full"
                  : why == Admission::disk_full    ? "storage.max_disk in use"
                                                   : "larger than the table's max_memory")
              << ")";
}

void Table::on_buffered(std::int64_t rows, std::int64_t bytes) {
    stats_.buffered_rows.fetch_add(static_cast<std::uint64_t>(rows), kRelaxed);
    stats_.buffered_bytes.fetch_add(static_cast<std::uint64_t>(bytes), kRelaxed);
}

void Table::on_sealed(flush::FlushReason reason, std::uint64_t rows, std::uint64_t bytes,
                      TimePoint first_append, TimePoint sealed_at) {
    {
        LockGuard lock(mutex_);
        pending_sealed_.insert(sealed_at);
        pending_first_.insert(first_append);
    }
    stats_.seals[static_cast<int>(reason)].fetch_add(1, kRelaxed);
    stats_.buffered_rows.fetch_sub(rows, kRelaxed);
    stats_.buffered_bytes.fetch_sub(bytes, kRelaxed);
    stats_.pending_rows.fetch_add(rows, kRelaxed);
    stats_.pending_bytes.fetch_add(bytes, kRelaxed);
    LOG_DEBUG << log::table(name_) << log::rows(rows) << log::bytes(bytes) << "table " << name_
              << ": sealed " << rows << " rows (" << bytes << " bytes) by " << to_string(reason);
}

void Table::on_replayed(std::uint64_t rows, std::uint64_t bytes, TimePoint first_append,
                        TimePoint sealed_at) {
    {
        LockGuard lock(mutex_);
        pending_sealed_.insert(sealed_at);
        pending_first_.insert(first_append);
    }
    stats_.seals[static_cast<int>(flush::FlushReason::replay)].fetch_add(1, kRelaxed);
    stats_.rows_replayed.fetch_add(rows, kRelaxed);
    stats_.pending_rows.fetch_add(rows, kRelaxed);
    stats_.pending_bytes.fetch_add(bytes, kRelaxed);
}

void Table::on_inserted(std::uint64_t batch_id, std::uint64_t rows, std::uint64_t bytes,
                        std::uint64_t sent_bytes, milliseconds latency, int attempt,
                        TimePoint now) {
    stats_.batches_inserted.fetch_add(1, kRelaxed);
    stats_.rows_inserted.fetch_add(rows, kRelaxed);
    stats_.bytes_inserted.fetch_add(bytes, kRelaxed);
    stats_.bytes_sent.fetch_add(sent_bytes, kRelaxed);
    stats_.flush_latency_ms_sum.fetch_add(static_cast<std::uint64_t>(latency.count()), kRelaxed);
    stats_.last_flush_latency_ms.store(static_cast<std::uint64_t>(latency.count()), kRelaxed);
    const auto unix_ms = std::chrono::duration_cast<milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    stats_.last_flush_unix_ms.store(static_cast<std::uint64_t>(unix_ms.count()), kRelaxed);
    inserted_rate_.add(rows, now);
    if (attempt > 1) {
        LOG_INFO << log::table(name_) << log::batch_id(batch_id) << log::rows(rows)
                 << log::bytes(bytes) << "table " << name_ << ": batch " << batch_id << " inserted "
                 << rows << " rows on attempt " << attempt;
    } else {
        LOG_DEBUG << log::table(name_) << log::batch_id(batch_id) << log::rows(rows)
                  << log::bytes(bytes) << "table " << name_ << ": batch " << batch_id
                  << " inserted " << rows << " rows in " << latency.count() << " ms";
    }
}

void Table::on_bad_rows(std::uint64_t batch_id, std::uint64_t inserted, std::uint64_t bad,
                        std::uint64_t inserts, bool dead_lettered, const std::string& first_error) {
    stats_.rows_inserted.fetch_add(inserted, kRelaxed);
    if (inserted > 0) stats_.batches_inserted.fetch_add(1, kRelaxed);
    (dead_lettered ? stats_.rows_dead_lettered : stats_.rows_dropped).fetch_add(bad, kRelaxed);
    if (bad == 0) return;
    LOG_WARN << log::table(name_) << log::batch_id(batch_id) << log::rows(bad) << "table " << name_
             << ": batch " << batch_id << ": ClickHouse refused " << bad << " row(s), "
             << (dead_lettered ? "kept in the dead letters" : "dropped (LogAndContinue)") << "; "
             << inserted << " inserted, " << inserts
             << " INSERTs to isolate them. First: " << first_error;
}

void Table::on_spooled(std::uint64_t batch_id, std::uint64_t rows, int attempts,
                       const std::string& error) {
    stats_.rows_spooled.fetch_add(rows, kRelaxed);
    LOG_WARN << log::table(name_) << log::batch_id(batch_id) << log::rows(rows) << "table " << name_
             << ": batch " << batch_id << " (" << rows << " rows) spooled to disk after "
             << attempts << " attempts (" << error << "); it is sent again when ClickHouse answers";
}

void Table::on_settled(std::uint64_t rows, std::uint64_t bytes) {
    stats_.pending_rows.fetch_sub(rows, kRelaxed);
    stats_.pending_bytes.fetch_sub(bytes, kRelaxed);
}

void Table::on_batch_finished(TimePoint first_append, TimePoint sealed_at) {
    LockGuard lock(mutex_);
    if (auto it = pending_sealed_.find(sealed_at); it != pending_sealed_.end()) {
        pending_sealed_.erase(it);
    }
    if (auto it = pending_first_.find(first_append); it != pending_first_.end()) {
        pending_first_.erase(it);
    }
}

TimePoint Table::oldest_sealed() const {
    LockGuard lock(mutex_);
    return pending_sealed_.empty() ? TimePoint::max() : *pending_sealed_.begin();
}

TimePoint Table::oldest_pending_event() const {
    LockGuard lock(mutex_);
    return pending_first_.empty() ? TimePoint::max() : *pending_first_.begin();
}

void Table::on_hold(const std::string& label, const std::string& reason) {
    {
        LockGuard lock(mutex_);
        auto [it, fresh] = holds_.try_emplace(label, BufferHold{reason, {}});
        it->second.reason = reason;
        if (!fresh) return;
        it->second.since = std::chrono::system_clock::now();
    }
    stats_.holds.fetch_add(1, kRelaxed);
    LOG_ERROR << log::table(name_) << label << " is HELD: " << reason
              << ". Its rows are kept (memory, then 429 once the table's max_memory is in use; "
                 "after clickhouse.hold_max they go to the dead letters) and one batch tries "
                 "again periodically; fix the table or access in ClickHouse";
}

void Table::on_hold_released(const std::string& label) {
    {
        LockGuard lock(mutex_);
        if (holds_.erase(label) == 0) return;
    }
    LOG_INFO << log::table(name_) << label << " is no longer held: ClickHouse takes its rows again";
}

Table::HoldState Table::hold_state() const {
    LockGuard lock(mutex_);
    HoldState h;
    h.buffers = holds_.size();
    for (const auto& [label, hold] : holds_) {
        if (h.held && hold.since >= h.since) continue;
        h.held = true;
        h.since = hold.since;
        h.reason = label == name_ ? hold.reason : label + ": " + hold.reason;
    }
    return h;
}

void Table::on_attempt_failed(std::uint64_t batch_id, std::uint64_t rows, int attempt,
                              const std::string& error, milliseconds retry_in, bool will_retry,
                              int code, std::string_view replica) {
    stats_.failed_attempts.fetch_add(1, kRelaxed);
    if (will_retry) stats_.rows_retried.fetch_add(rows, kRelaxed);
    std::vector<log::Field> fields{log::table(name_), log::batch_id(batch_id), log::rows(rows)};
    if (code != 0) fields.push_back(log::code(code));
    if (!replica.empty()) fields.push_back(log::replica(replica));
    if (will_retry) {
        LOG_WARN << fields << "table " << name_ << ": batch " << batch_id << " (" << rows
                 << " rows) failed on attempt " << attempt << ": " << error << "; retrying in "
                 << retry_in.count() << " ms";
    } else {
        LOG_ERROR << fields << "table " << name_ << ": batch " << batch_id << " (" << rows
                  << " rows) failed on attempt " << attempt << ": " << error;
    }
}

void Table::on_dropped(std::uint64_t batch_id, std::uint64_t rows, const std::string& why) {
    stats_.batches_dropped.fetch_add(1, kRelaxed);
    stats_.rows_dropped.fetch_add(rows, kRelaxed);
    LOG_ERROR << log::table(name_) << log::batch_id(batch_id) << log::rows(rows) << "table "
              << name_ << ": DROPPED batch " << batch_id << " with " << rows << " rows: " << why;
}

}  // namespace chgate::batch
