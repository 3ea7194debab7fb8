#include "batch/TableBuffer.hpp"

#include <cstring>

#include "store/Storage.hpp"
#include "store/Wal.hpp"

namespace chgate::batch {

std::uint64_t next_batch_id() {
    static std::atomic<std::uint64_t> next{
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count())};
    return next.fetch_add(1, std::memory_order_relaxed);
}

namespace {

// A shard's buffer inserts into the shards' table (local_table) there.
std::string build_insert_query(const Table& t, const std::vector<std::string>& columns,
                               std::uint32_t shard) {
    const auto target = shard != 0 ? t.sharding()->local_table : t.table();
    std::string q = "INSERT INTO `" + t.database() + "`.`" + target + "`";
    if (!columns.empty()) {
        q += " (";
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (i > 0) q += ", ";
            q += "`" + columns[i] + "`";
        }
        q += ")";
    }
    q += " FORMAT JSONEachRow";
    return q;
}

std::string make_label(const Table& t, const std::vector<std::string>& columns,
                       std::uint32_t shard) {
    const auto name = shard != 0 ? t.name() + " shard " + std::to_string(shard) : t.name();
    if (columns.empty()) return name;
    constexpr std::size_t kMax = 120;
    std::string label = name + " (";
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (label.size() > kMax) {
            label += "… " + std::to_string(columns.size() - i) + " more";
            break;
        }
        label += (i > 0 ? ", " : "") + columns[i];
    }
    return label + ")";
}

}  // namespace

TableBuffer::TableBuffer(std::shared_ptr<Table> table, std::vector<std::string> columns,
                         std::unique_ptr<Strategy> strategy, std::shared_ptr<store::Wal> wal,
                         bool log_appends, std::uint32_t shard)
    : table_(std::move(table)),
      columns_(std::move(columns)),
      target_{build_insert_query(*table_, columns_, shard),
              {table_->database(), table_->table(), columns_, shard},
              make_label(*table_, columns_, shard),
              shard,
              shard != 0 ? table_->sharding()->local_table : table_->table(),
              table_->name()},
      wal_(std::move(wal)),
      log_appends_(log_appends && wal_ != nullptr),
      strategy_(std::move(strategy)) {}

AppendResult TableBuffer::append(std::string_view body, std::span<const core::RowSlice> rows,
                                 TimePoint now, std::vector<flush::Batch>& sealed,
                                 const flush::CommitWaiterPtr& waiter) {
    if (rows.empty()) return {};
    const auto bytes = row_bytes(rows);
    if (auto a = table_->reserve(bytes); a != Admission::ok) {
        table_->on_rejected(a, bytes);
        return {a, 0};
    }
    return append_reserved(body, rows, bytes, now, sealed, waiter);
}

std::uint64_t row_bytes(std::span<const core::RowSlice> rows) {
    std::uint64_t bytes = 0;
    for (const auto& r : rows)
        bytes += r.length + 1;  // each row ends with '\n'
    return bytes;
}

AppendResult TableBuffer::append_reserved(std::string_view body,
                                          std::span<const core::RowSlice> rows, std::uint64_t bytes,
                                          TimePoint now, std::vector<flush::Batch>& sealed,
                                          const flush::CommitWaiterPtr& waiter,
                                          std::uint64_t requests) {
    AppendResult result;
    {
        LockGuard lock(mutex_);
        bool open = false;
        std::size_t i = 0;
        while (i < rows.size()) {
            if (rows_ == 0) {
                first_append_ = now;
                // Start the next batch at the size the last one reached: one allocation per batch.
                if (data_.capacity() < last_batch_capacity_) data_.reserve(last_batch_capacity_);
            }
            // Take rows until the batch is full by rows or bytes; at least one, so
            // a row larger than the byte limit still goes out, alone.
            const auto row_limit = strategy_->row_limit();
            const auto byte_limit = strategy_->seal_bytes();
            std::size_t n = 0;
            std::uint64_t chunk = 0;
            do {
                chunk += rows[i + n].length + 1;
                ++n;
            } while (i + n < rows.size() && rows_ + n < row_limit &&
                     data_.size() + chunk < byte_limit);
            // The open batch holds some of this request's rows: it reports to
            // the waiter, about these rows.
            if (waiter) {
                if (open_waiters_.empty() || open_waiters_.back().waiter != waiter) {
                    waiter->add_batch();
                    open_waiters_.push_back({waiter, rows_, 0, i});
                }
                open_waiters_.back().count += n;
            }
            copy_rows_locked(body, rows.subspan(i, n), chunk);
            if (log_appends_) result.last_lsn = log_chunk_locked(chunk);
            i += n;
            const BufferView view{rows_, data_.size(), first_append_};
            if (auto reason = strategy_->should_seal(view, now)) {
                sealed.push_back(seal_locked(*reason, now));
                open = false;
            } else {
                open = true;
            }
        }
        if (open) update_deadline_locked();
    }
    last_used_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
    table_->on_accepted(rows.size(), bytes, requests);
    if (target_.shard != 0) {
        table_->shard_stats(target_.shard)
            .rows_accepted.fetch_add(rows.size(), std::memory_order_relaxed);
    }
    return result;
}

// Logs the chunk just copied to the end of the open rows, as one record.
std::uint64_t TableBuffer::log_chunk_locked(std::uint64_t bytes) {
    const std::string_view chunk(data_.data() + data_.size() - bytes, bytes);
    const auto lsn = wal_->append_data(chunk);
    if (open_first_lsn_ == 0) open_first_lsn_ = lsn;
    open_last_lsn_ = lsn;
    return lsn;
}

void TableBuffer::copy_rows_locked(std::string_view body, std::span<const core::RowSlice> rows,
                                   std::uint64_t bytes) {
    const auto old_size = data_.size();
    data_.resize(old_size + bytes);
    char* out = data_.data() + old_size;
    for (const auto& r : rows) {
        std::memcpy(out, body.data() + r.offset, r.length);
        if (r.has_line_break) {
            // Line breaks inside valid JSON are whitespace: fold them so the row stays one line.
            for (char* p = out; p != out + r.length; ++p) {
                if (*p == '\n' || *p == '\r') *p = ' ';
            }
        }
        out += r.length;
        *out++ = '\n';
    }
    rows_ += rows.size();
    table_->on_buffered(static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(bytes));
}

std::optional<flush::Batch> TableBuffer::seal_if_due(TimePoint now) {
    LockGuard lock(mutex_);
    if (rows_ == 0) return std::nullopt;
    const BufferView view{rows_, data_.size(), first_append_};
    if (auto reason = strategy_->should_seal(view, now)) return seal_locked(*reason, now);
    update_deadline_locked();
    return std::nullopt;
}

std::optional<flush::Batch> TableBuffer::seal_now(flush::FlushReason reason, TimePoint now) {
    LockGuard lock(mutex_);
    if (rows_ == 0) return std::nullopt;
    return seal_locked(reason, now);
}

flush::Batch TableBuffer::seal_locked(flush::FlushReason reason, TimePoint now) {
    flush::Batch b;
    b.id = next_batch_id();
    b.owner = shared_from_this();
    b.row_count = rows_;
    b.first_append = first_append_;
    b.sealed_at = now;
    b.reason = reason;
    b.priority = table_->config()->priority;
    b.waiters = std::move(open_waiters_);
    open_waiters_.clear();
    if (open_first_lsn_ != 0) {
        b.first_lsn = open_first_lsn_;
        b.last_lsn = open_last_lsn_;
        b.seal_lsn = wal_->append_seal(b.id, b.first_lsn, b.last_lsn);
        open_first_lsn_ = open_last_lsn_ = 0;
    }
    last_batch_capacity_ = data_.size();
    b.rows = std::move(data_);
    data_ = std::string();
    rows_ = 0;
    deadline_.store(TimePoint::max().time_since_epoch().count());
    table_->on_sealed(reason, b.row_count, b.rows.size(), b.first_append, b.sealed_at);
    return b;
}

flush::Batch TableBuffer::adopt_replayed(store::ReplayedBatch&& replayed, std::uint64_t batch_id,
                                         TimePoint now) {
    flush::Batch b;
    b.id = batch_id;
    b.owner = shared_from_this();
    b.row_count = replayed.row_count;
    b.first_append = now;
    b.sealed_at = now;
    b.reason = flush::FlushReason::replay;
    b.priority = table_->config()->priority;
    b.first_lsn = replayed.first_lsn;
    b.last_lsn = replayed.last_lsn;
    b.rows = std::move(replayed.rows);
    // Records that were never sealed get their seal now, under a new id; a
    // sealed batch keeps its id, so a retry is recognisably the same batch.
    if (replayed.new_id) {
        b.seal_lsn = wal_->append_seal(b.id, b.first_lsn, b.last_lsn);
    } else {
        wal_->adopt_batch(b.id, b.first_lsn, b.last_lsn);
    }
    table_->on_replayed(b.row_count, b.rows.size(), b.first_append, b.sealed_at);
    return b;
}

void TableBuffer::update_deadline_locked() {
    const BufferView view{rows_, data_.size(), first_append_};
    deadline_.store(strategy_->deadline(view).time_since_epoch().count());
}

TimePoint TableBuffer::oldest_open_event() const {
    LockGuard lock(mutex_);
    return rows_ == 0 ? TimePoint::max() : first_append_;
}

std::optional<flush::Batch> TableBuffer::retune(std::unique_ptr<Strategy> strategy, TimePoint now) {
    LockGuard lock(mutex_);
    strategy_ = std::move(strategy);
    if (rows_ > 0) {
        const BufferView view{rows_, data_.size(), first_append_};
        if (auto reason = strategy_->should_seal(view, now)) return seal_locked(*reason, now);
    }
    update_deadline_locked();
    return std::nullopt;
}

void TableBuffer::on_flushed(const FlushFeedback& feedback) {
    LockGuard lock(mutex_);
    strategy_->on_flushed(feedback);
}

Thresholds TableBuffer::thresholds() const {
    LockGuard lock(mutex_);
    return strategy_->thresholds();
}

void TableBuffer::hold(const std::string& reason, TimePoint now) {
    {
        LockGuard lock(hold_mutex_);
        if (!held_.exchange(true)) {
            held_since_ = now;
            next_probe_ = now;
        }
    }
    table_->on_hold(target_.label, reason);
}

bool TableBuffer::release_hold() {
    {
        LockGuard lock(hold_mutex_);
        if (!held_.exchange(false)) return false;
        held_since_ = TimePoint::max();
    }
    table_->on_hold_released(target_.label);
    return true;
}

TimePoint TableBuffer::held_since() const {
    LockGuard lock(hold_mutex_);
    return held_since_;
}

bool TableBuffer::claim_probe(TimePoint now, milliseconds interval, TimePoint& next) {
    LockGuard lock(hold_mutex_);
    if (now < next_probe_) {
        next = next_probe_;
        return false;
    }
    next_probe_ = now + interval;
    return true;
}

void TableBuffer::on_sent(const flush::Batch& b, bool ok, milliseconds elapsed) {
    on_flushed({b.row_count, elapsed, b.reason, ok});
}

void TableBuffer::on_inserted(const flush::Batch& b, std::uint64_t sent_bytes,
                              milliseconds elapsed) {
    table_->on_inserted(b.id, b.row_count, b.rows.size(), sent_bytes, elapsed, b.attempts,
                        Clock::now());
    if (target_.shard != 0) {
        auto& s = table_->shard_stats(target_.shard);
        s.batches_inserted.fetch_add(1, std::memory_order_relaxed);
        s.rows_inserted.fetch_add(b.row_count, std::memory_order_relaxed);
    }
}

void TableBuffer::on_attempt_failed(const flush::Batch& b, const std::string& error,
                                    milliseconds retry_in, bool will_retry) {
    table_->on_attempt_failed(b.id, b.row_count, b.attempts, error, retry_in, will_retry,
                              b.last_code, b.last_replica);
    if (target_.shard != 0) {
        table_->shard_stats(target_.shard).failed_attempts.fetch_add(1, std::memory_order_relaxed);
    }
}

void TableBuffer::on_bad_rows(const flush::Batch& b, std::uint64_t inserted, std::uint64_t bad,
                              std::uint64_t inserts, bool dead_lettered,
                              const std::string& first_error) {
    table_->on_bad_rows(b.id, inserted, bad, inserts, dead_lettered, first_error);
}

void TableBuffer::on_spooled(const flush::Batch& b, const std::string& error) {
    table_->on_spooled(b.id, b.row_count, b.attempts, error);
    if (target_.shard != 0) {
        table_->shard_stats(target_.shard)
            .rows_spooled.fetch_add(b.row_count, std::memory_order_relaxed);
    }
    on_done(b, store::DoneOutcome::spooled);
}

void TableBuffer::on_done(const flush::Batch& b, store::DoneOutcome outcome) {
    // No sync: a lost done record costs a duplicate at replay, never a lost row.
    if (b.last_lsn != 0 && wal_) wal_->append_done({b.id, b.first_lsn, b.last_lsn, outcome});
}

void TableBuffer::on_rows_left(std::uint64_t rows, std::uint64_t bytes) {
    table_->on_settled(rows, bytes);
    table_->release(bytes);
}

bool TableBuffer::seal_logged(const flush::Batch& b) const {
    // A log that is down keeps its seal records for the next segment; the
    // batch goes now rather than wait for the disk (a kill -9 meanwhile may
    // then send its rows twice).
    return b.seal_lsn == 0 || wal_ == nullptr || wal_->durable_lsn() >= b.seal_lsn ||
           wal_->failed();
}

void TableBuffer::on_released(const flush::Batch& b) {
    table_->on_settled(b.row_count, b.rows.size());
    table_->on_batch_finished(b.first_append, b.sealed_at);
    table_->release(b.rows.size());
}

}  // namespace chgate::batch
