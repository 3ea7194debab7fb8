#include "batch/TableBuffer.hpp"

#include <cstring>

namespace chgate::batch {

std::uint64_t next_batch_id() {
    static std::atomic<std::uint64_t> next{
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count())};
    return next.fetch_add(1, std::memory_order_relaxed);
}

namespace {

std::string build_insert_query(const Table& t, const std::vector<std::string>& columns) {
    std::string q = "INSERT INTO `" + t.database() + "`.`" + t.table() + "`";
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

}  // namespace

TableBuffer::TableBuffer(std::shared_ptr<Table> table, std::vector<std::string> columns,
                         std::unique_ptr<Strategy> strategy)
    : table_(std::move(table)),
      columns_(std::move(columns)),
      insert_query_(build_insert_query(*table_, columns_)),
      strategy_(std::move(strategy)) {}

Admission TableBuffer::append(std::string_view body, std::span<const ingest::RowSlice> rows,
                              TimePoint now, std::vector<Batch>& sealed) {
    std::uint64_t bytes = 0;
    for (const auto& r : rows)
        bytes += r.length + 1;  // each row ends with '\n'
    if (rows.empty()) return Admission::ok;
    if (auto a = table_->reserve(bytes); a != Admission::ok) {
        table_->on_rejected(a, bytes);
        return a;
    }
    {
        std::lock_guard lock(mutex_);
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
            copy_rows_locked(body, rows.subspan(i, n), chunk);
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
    table_->on_accepted(rows.size(), bytes);
    return Admission::ok;
}

void TableBuffer::copy_rows_locked(std::string_view body, std::span<const ingest::RowSlice> rows,
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

std::optional<Batch> TableBuffer::seal_if_due(TimePoint now) {
    std::lock_guard lock(mutex_);
    if (rows_ == 0) return std::nullopt;
    const BufferView view{rows_, data_.size(), first_append_};
    if (auto reason = strategy_->should_seal(view, now)) return seal_locked(*reason, now);
    update_deadline_locked();
    return std::nullopt;
}

std::optional<Batch> TableBuffer::seal_now(FlushReason reason, TimePoint now) {
    std::lock_guard lock(mutex_);
    if (rows_ == 0) return std::nullopt;
    return seal_locked(reason, now);
}

Batch TableBuffer::seal_locked(FlushReason reason, TimePoint now) {
    Batch b;
    b.id = next_batch_id();
    b.source = shared_from_this();
    b.row_count = rows_;
    b.first_append = first_append_;
    b.sealed_at = now;
    b.reason = reason;
    b.priority = table_->config().priority;
    last_batch_capacity_ = data_.size();
    b.rows = std::move(data_);
    data_ = std::string();
    rows_ = 0;
    deadline_.store(TimePoint::max().time_since_epoch().count());
    table_->on_sealed(reason, b.row_count, b.rows.size());
    return b;
}

void TableBuffer::update_deadline_locked() {
    const BufferView view{rows_, data_.size(), first_append_};
    deadline_.store(strategy_->deadline(view).time_since_epoch().count());
}

void TableBuffer::on_flushed(const FlushFeedback& feedback) {
    std::lock_guard lock(mutex_);
    strategy_->on_flushed(feedback);
}

Thresholds TableBuffer::thresholds() const {
    std::lock_guard lock(mutex_);
    return strategy_->thresholds();
}

}  // namespace chgate::batch
