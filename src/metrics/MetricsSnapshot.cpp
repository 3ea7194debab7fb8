#include "metrics/MetricsSnapshot.hpp"

#include <map>
#include <set>

#include "batch/BatchManager.hpp"
#include "core/RateWindow.hpp"
#include "store/DeadLetters.hpp"
#include "store/Spool.hpp"
#include "store/Storage.hpp"

namespace chgate::metrics {

namespace {

void read_storage(const batch::BatchManager& manager, const store::Storage& storage,
                  GatewaySnapshot& g) {
    g.has_storage = true;
    g.storage_dir = storage.dir().string();
    g.fsync = config::to_string(manager.registry().startup_config().storage.fsync);
    g.disk_bytes = storage.disk_bytes();
    g.spool_bytes = storage.spool().bytes();
    g.spool_set_aside = storage.spool().set_aside_files();
    g.max_disk = storage.max_disk();
    for (const auto& [name, c] : storage.dead_letters().counts()) {
        g.dead_letter_rows += c.rows;
        g.dead_letter_bytes += c.bytes;
    }
    g.syncs = storage.syncs();
    g.failed_logs = manager.registry().failed_logs();
    g.sync_seconds = std::chrono::duration<double>(storage.sync_time()).count();
    const auto r = manager.replayer().totals();
    g.replay_logs = r.logs;
    g.replay_rows = r.rows;
    g.replay_batches = r.batches;
    g.replay_damaged = r.damaged;
    g.replay_torn_bytes = r.torn_bytes;
    g.replay_unreadable_segments = r.unreadable_segments;
}

/// What a table's buffers say about it. A table fed through several column
/// lists has several buffers: the thresholds shown are one buffer's (they
/// share the table's settings), the oldest open event the oldest of all.
struct BufferFacts {
    std::map<const batch::Table*, batch::Thresholds> thresholds;
    std::map<const batch::Table*, TimePoint> oldest_open;
    std::set<std::pair<const batch::Table*, std::uint32_t>> held_shards;
};

BufferFacts read_buffers(const batch::TableRegistry& registry) {
    BufferFacts out;
    for (const auto& buffer : registry.buffers()) {
        out.thresholds.try_emplace(&buffer->table(), buffer->thresholds());
        const auto first = buffer->oldest_open_event();
        auto [it, fresh] = out.oldest_open.try_emplace(&buffer->table(), first);
        if (!fresh) it->second = std::min(it->second, first);
        if (buffer->shard() != 0 && buffer->held())
            out.held_shards.emplace(&buffer->table(), buffer->shard());
    }
    return out;
}

TableSnapshot read_table(const batch::Table& t, const BufferFacts& buffers,
                         const std::map<std::string, store::Spool::Count>& spooled, TimePoint now) {
    const auto cfg = t.config();
    TableSnapshot ts;
    ts.name = t.name();
    ts.strategy = cfg->strategy_name;
    ts.compression = config::to_string(cfg->compression);
    ts.ack = config::to_string(cfg->ack);
    ts.priority = cfg->priority;
    ts.retry_attempts = cfg->retry_attempts;
    const auto thresholds = buffers.thresholds.find(&t);
    ts.thresholds = thresholds != buffers.thresholds.end()
                        ? thresholds->second
                        : batch::make_strategy(*cfg)->thresholds();
    ts.max_memory = cfg->max_memory;
    ts.memory_bytes = t.held_bytes();
    ts.counts = batch::read_counts(t.stats());
    if (auto it = spooled.find(t.database() + "." + t.table()); it != spooled.end()) {
        ts.spool_batches = it->second.batches;
        ts.spool_rows = it->second.rows;
        ts.spool_bytes = it->second.bytes;
    }
    const auto hold = t.hold_state();
    ts.held = hold.held;
    ts.held_reason = hold.reason;
    ts.held_since_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(hold.since.time_since_epoch())
            .count();
    auto age = [now](TimePoint since) -> std::int64_t {
        if (since == TimePoint::max() || since > now) return 0;
        return std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
    };
    if (t.sharding()) {
        // Shards the cluster has had since: their counters stay.
        for (std::uint32_t i = 1; i <= t.shards_seen(); ++i) {
            const auto& c = t.shard_stats(i);
            constexpr auto r = std::memory_order_relaxed;
            ts.shards.push_back({i, c.rows_accepted.load(r), c.batches_inserted.load(r),
                                 c.rows_inserted.load(r), c.failed_attempts.load(r),
                                 c.rows_spooled.load(r), buffers.held_shards.contains({&t, i})});
        }
    }
    ts.send_lag_ms = age(t.oldest_sealed());
    ts.oldest_pending_age_ms = age(t.oldest_pending_event());
    if (auto it = buffers.oldest_open.find(&t); it != buffers.oldest_open.end()) {
        ts.oldest_pending_age_ms = std::max(ts.oldest_pending_age_ms, age(it->second));
    }
    return ts;
}

}  // namespace

GatewaySnapshot take_snapshot(const batch::BatchManager& manager, const batch::MemoryBudget& budget,
                              const core::RateWindow& inserted, const store::Storage* storage,
                              TimePoint now) {
    GatewaySnapshot g;
    g.enabled = manager.registry().startup_config().batching.enabled;
    g.memory_bytes = budget.held();
    g.max_memory = budget.limit();
    g.events_per_second = inserted.per_second(now);
    g.ready = manager.registry().ready();
    if (storage != nullptr) read_storage(manager, *storage, g);
    const auto buffers = read_buffers(manager.registry());
    std::map<std::string, store::Spool::Count> spooled;
    if (storage != nullptr) spooled = storage->spool().counts();
    for (const auto& t : manager.registry().tables())
        g.tables.push_back(read_table(*t, buffers, spooled, now));
    return g;
}

}  // namespace chgate::metrics
