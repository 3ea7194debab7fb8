#include "batch/WalReplayer.hpp"

#include <thread>

#include "flush/FlushQueue.hpp"
#include "store/Storage.hpp"
#include "util/Log.hpp"

namespace chgate::batch {

using namespace std::chrono_literals;

namespace {
constexpr auto kProgressInterval = 5s;
}

WalReplayer::WalReplayer(TableRegistry& registry, flush::FlushQueue& queue, store::Storage* storage)
    : registry_(registry), queue_(queue), storage_(storage) {}

void WalReplayer::run(const std::atomic<bool>& stop) {
    if (storage_ == nullptr) return;
    // Open every log on disk: routing creates its buffer and finds what to replay.
    for (const auto& target : storage_->existing_logs()) {
        const auto r = registry_.route_for_recovery(target);
        if (!r.buffer) {
            LOG_ERROR << "the write-ahead log of " << target.database << "." << target.table
                      << " cannot be replayed";
        }
    }
    auto work = registry_.take_pending_replays();
    std::uint64_t total_bytes = 0, read_before = 0;
    for (const auto& entry : work)
        total_bytes += entry.second->bytes();
    ProgressScope progress(progress_, "wal_replay", "");
    progress->set_bytes(0, total_bytes);
    const auto report = [&] {
        if (progress->due(Clock::now(), kProgressInterval)) {
            LOG_INFO << "replaying the write-ahead logs: "
                     << describe(progress->view(Clock::now()));
        }
    };
    for (auto& entry : work) {
        // Named, not a structured binding: clang 14 cannot capture those.
        const auto& buffer = entry.first;
        const auto& plan = entry.second;
        if (stop.load()) break;
        const auto& table = buffer->table();
        const auto stats = plan->run(
            [&](store::ReplayedBatch&& b) {
                const auto rows = b.row_count;
                enqueue(*buffer, std::move(b), stop);
                progress->advance(rows);
                report();
            },
            std::max<std::uint64_t>(table.config()->max_memory / 2, 1),
            [&](std::uint64_t read) { progress->set_bytes(read_before + read, total_bytes); });
        read_before += plan->bytes();
        progress->set_bytes(read_before, total_bytes);
        {
            LockGuard lock(mutex_);
            ++totals_.logs;
            totals_.records += stats.records;
            totals_.rows += stats.rows;
            totals_.batches += stats.batches;
            totals_.damaged += stats.damaged;
            totals_.torn_bytes += stats.torn_bytes;
            totals_.unreadable_segments += stats.unreadable_segments;
        }
        if (stats.rows > 0 || stats.damaged > 0 || stats.torn_bytes > 0 ||
            stats.unreadable_segments > 0) {
            LOG_INFO << log::table(table.name()) << log::rows(stats.rows) << "table "
                     << table.name() << ": replaying " << stats.rows << " rows in " << stats.batches
                     << " batches from the write-ahead log (" << stats.skipped_done
                     << " records already committed, " << stats.damaged
                     << " damaged records skipped, " << stats.torn_bytes
                     << " bytes cut from a torn tail, " << stats.unreadable_segments
                     << " unreadable segments set aside)";
        }
    }
}

void WalReplayer::enqueue(TableBuffer& buffer, store::ReplayedBatch&& replayed,
                          const std::atomic<bool>& stop) {
    auto& table = buffer.table();
    const auto bytes = replayed.rows.size();
    if (bytes > table.config()->max_memory) {
        table.force_reserve(bytes);  // the quota shrank since these rows were accepted
    } else {
        bool told = false;
        while (table.reserve(bytes) != Admission::ok) {
            if (stop.load()) return;  // the rows stay in the log for the next start
            if (!told) {
                LOG_INFO << "table " << table.name()
                         << ": replay waits for ClickHouse to take earlier batches";
                told = true;
            }
            std::this_thread::sleep_for(20ms);
        }
    }
    const auto id = replayed.new_id ? next_batch_id() : replayed.id;
    queue_.push(buffer.adopt_replayed(std::move(replayed), id, Clock::now()));
}

WalReplayer::Totals WalReplayer::totals() const {
    LockGuard lock(mutex_);
    return totals_;
}

}  // namespace chgate::batch
