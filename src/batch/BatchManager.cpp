#include "batch/BatchManager.hpp"

#include <thread>
#include <utility>

#include "flush/FlushQueue.hpp"
#include "store/Storage.hpp"

namespace chgate::batch {

BatchManager::BatchManager(config::ConfigPtr startup, flush::FlushQueue& queue,
                           MemoryBudget& budget, core::RateWindow& inserted_rate,
                           store::Storage* storage)
    : queue_(queue),
      budget_(budget),
      storage_(storage),
      registry_(std::move(startup), budget, inserted_rate, storage),
      replayer_(registry_, queue, storage),
      timer_(registry_, queue, storage) {}

bool BatchManager::append_waiting(TableBuffer& buffer, std::string_view body,
                                  std::span<const core::RowSlice> rows,
                                  const flush::CommitWaiterPtr& waiter,
                                  const std::atomic<bool>& stop, std::string& error) {
    for (;;) {
        const auto r = append(buffer, body, rows, Clock::now(), waiter);
        if (r.admission == Admission::ok) return true;
        if (r.admission == Admission::too_large) {
            error = "the rows are larger than table " + buffer.table().name() + "'s max_memory";
            return false;
        }
        if (stop.load()) {
            error = "chgate is stopping";
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

AppendResult BatchManager::append(TableBuffer& buffer, std::string_view body,
                                  std::span<const core::RowSlice> rows, TimePoint now,
                                  const flush::CommitWaiterPtr& waiter) {
    // A logged table needs room on disk for what it accepts (storage.max_disk).
    if (buffer.logs_appends() && storage_ != nullptr && !storage_->disk_has_room(body.size())) {
        buffer.table().on_rejected(Admission::disk_full, body.size());
        return {Admission::disk_full, 0};
    }
    // Reused per io thread: sealing allocates nothing here once it has grown.
    thread_local std::vector<flush::Batch> sealed;
    sealed.clear();
    const auto result = buffer.append(body, rows, now, sealed, waiter);
    for (auto& b : sealed)
        queue_.push(std::move(b));
    sealed.clear();
    if (result.admission == Admission::ok) timer_.wake_by(buffer.deadline());
    return result;
}

Admission BatchManager::append_shards(std::span<ShardPart> parts, std::string_view body,
                                      TimePoint now, const flush::CommitWaiterPtr& waiter) {
    if (parts.empty()) return Admission::ok;
    auto& first = *parts.front().buffer;
    auto& table = first.table();
    if (first.logs_appends() && storage_ != nullptr && !storage_->disk_has_room(body.size())) {
        table.on_rejected(Admission::disk_full, body.size());
        return Admission::disk_full;
    }
    std::uint64_t total = 0;
    for (const auto& p : parts)
        total += row_bytes(p.rows);
    if (auto a = table.reserve(total); a != Admission::ok) {
        table.on_rejected(a, total);
        return a;
    }
    thread_local std::vector<flush::Batch> sealed;
    std::uint64_t requests = 1;  // counted once, with the first shard's rows
    for (auto& p : parts) {
        sealed.clear();
        p.last_lsn = p.buffer
                         ->append_reserved(body, p.rows, row_bytes(p.rows), now, sealed, waiter,
                                           std::exchange(requests, 0))
                         .last_lsn;
        for (auto& b : sealed)
            queue_.push(std::move(b));
        timer_.wake_by(p.buffer->deadline());
    }
    sealed.clear();
    return Admission::ok;
}

void BatchManager::replay(const std::atomic<bool>& stop) {
    replayer_.run(stop);
    if (!stop.load()) registry_.set_ready();
}

void BatchManager::seal(TableBuffer& buffer, flush::FlushReason reason) {
    if (auto b = buffer.seal_now(reason, Clock::now())) queue_.push(std::move(*b));
}

std::pair<std::uint64_t, std::uint64_t> BatchManager::seal_table(std::string_view database,
                                                                 std::string_view table,
                                                                 flush::FlushReason reason) {
    const auto now = Clock::now();
    std::uint64_t batches = 0, rows = 0;
    for (const auto& buffer : registry_.buffers()) {
        const auto& t = buffer->table();
        if (!table.empty() && (t.database() != database || t.table() != table)) continue;
        if (auto b = buffer->seal_now(reason, now)) {
            ++batches;
            rows += b->row_count;
            queue_.push(std::move(*b));
        }
    }
    return {batches, rows};
}

TableRegistry::RetuneResult BatchManager::retune(const config::ConfigPtr& next, TimePoint now) {
    auto result = registry_.retune(next, now);
    budget_.set_limit(next->batching.max_memory);
    for (auto& b : result.sealed)
        queue_.push(std::move(b));
    result.sealed.clear();
    timer_.wake();  // deadlines may have moved earlier
    return result;
}

}  // namespace chgate::batch
