#include "metrics/MetricsSnapshot.hpp"

#include <map>

#include "batch/BatchManager.hpp"
#include "core/RateWindow.hpp"
#include "store/DeadLetters.hpp"
#include "store/Spool.hpp"
#include "store/Storage.hpp"

namespace chgate::metrics {

GatewaySnapshot take_snapshot(const batch::BatchManager& manager, const batch::MemoryBudget& budget,
                              const core::RateWindow& inserted, const store::Storage* storage,
                              TimePoint now) {
    GatewaySnapshot g;
    g.enabled = manager.registry().startup_config().batching.enabled;
    g.memory_bytes = budget.held();
    g.max_memory = budget.limit();
    g.events_per_second = inserted.per_second(now);
    g.ready = manager.registry().ready();
    if (storage != nullptr) {
        const auto& cfg = manager.registry().startup_config().storage;
        g.has_storage = true;
        g.storage_dir = storage->dir().string();
        g.fsync = config::to_string(cfg.fsync);
        g.disk_bytes = storage->disk_bytes();
        g.spool_bytes = storage->spool().bytes();
        g.spool_set_aside = storage->spool().set_aside_files();
        g.max_disk = storage->max_disk();
        for (const auto& [name, c] : storage->dead_letters().counts()) {
            g.dead_letter_rows += c.rows;
            g.dead_letter_bytes += c.bytes;
        }
        g.syncs = storage->syncs();
        g.failed_logs = manager.registry().failed_logs();
        g.sync_seconds = std::chrono::duration<double>(storage->sync_time()).count();
        const auto r = manager.replayer().totals();
        g.replay_logs = r.logs;
        g.replay_rows = r.rows;
        g.replay_batches = r.batches;
        g.replay_damaged = r.damaged;
        g.replay_torn_bytes = r.torn_bytes;
        g.replay_unreadable_segments = r.unreadable_segments;
    }

    // A table fed through several column lists has several buffers; show the
    // thresholds of one of them (they share the table's settings).
    std::map<const batch::Table*, batch::Thresholds> thresholds;
    std::map<const batch::Table*, TimePoint> oldest_open;
    for (const auto& buffer : manager.registry().buffers()) {
        thresholds.try_emplace(&buffer->table(), buffer->thresholds());
        const auto first = buffer->oldest_open_event();
        auto [it, fresh] = oldest_open.try_emplace(&buffer->table(), first);
        if (!fresh) it->second = std::min(it->second, first);
    }
    std::map<std::string, store::Spool::Count> spooled;
    if (storage != nullptr) spooled = storage->spool().counts();
    constexpr auto r = std::memory_order_relaxed;
    for (const auto& t : manager.registry().tables()) {
        const auto& s = t->stats();
        const auto cfg = t->config();
        const auto& c = *cfg;
        TableSnapshot ts;
        ts.name = t->name();
        ts.strategy = c.strategy_name;
        ts.compression = config::to_string(c.compression);
        ts.ack = config::to_string(c.ack);
        ts.priority = c.priority;
        ts.retry_attempts = c.retry_attempts;
        if (auto it = thresholds.find(t.get()); it != thresholds.end()) {
            ts.thresholds = it->second;
        } else {
            ts.thresholds = batch::make_strategy(c)->thresholds();
        }
        ts.max_memory = c.max_memory;
        ts.memory_bytes = t->held_bytes();
        ts.requests_accepted = s.requests_accepted.load(r);
        ts.rows_accepted = s.rows_accepted.load(r);
        ts.bytes_accepted = s.bytes_accepted.load(r);
        ts.requests_rejected_full = s.requests_rejected_full.load(r);
        for (std::size_t i = 0; i < ts.seals.size(); ++i)
            ts.seals[i] = s.seals[i].load(r);
        ts.buffered_rows = s.buffered_rows.load(r);
        ts.buffered_bytes = s.buffered_bytes.load(r);
        ts.pending_rows = s.pending_rows.load(r);
        ts.pending_bytes = s.pending_bytes.load(r);
        ts.rows_replayed = s.rows_replayed.load(r);
        ts.rows_retried = s.rows_retried.load(r);
        ts.rows_dead_lettered = s.rows_dead_lettered.load(r);
        ts.holds = s.holds.load(r);
        ts.rows_spooled = s.rows_spooled.load(r);
        if (auto it = spooled.find(t->database() + "." + t->table()); it != spooled.end()) {
            ts.spool_batches = it->second.batches;
            ts.spool_rows = it->second.rows;
            ts.spool_bytes = it->second.bytes;
        }
        const auto hold = t->hold_state();
        ts.held = hold.held;
        ts.held_reason = hold.reason;
        ts.held_since_unix_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(hold.since.time_since_epoch())
                .count();
        auto age = [now](TimePoint since) -> std::int64_t {
            if (since == TimePoint::max() || since > now) return 0;
            return std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
        };
        ts.send_lag_ms = age(t->oldest_sealed());
        ts.oldest_pending_age_ms = age(t->oldest_pending_event());
        if (auto it = oldest_open.find(t.get()); it != oldest_open.end()) {
            ts.oldest_pending_age_ms = std::max(ts.oldest_pending_age_ms, age(it->second));
        }
        ts.batches_inserted = s.batches_inserted.load(r);
        ts.rows_inserted = s.rows_inserted.load(r);
        ts.bytes_inserted = s.bytes_inserted.load(r);
        ts.bytes_sent = s.bytes_sent.load(r);
        ts.failed_attempts = s.failed_attempts.load(r);
        ts.batches_dropped = s.batches_dropped.load(r);
        ts.rows_dropped = s.rows_dropped.load(r);
        ts.flush_latency_ms_sum = s.flush_latency_ms_sum.load(r);
        ts.last_flush_latency_ms = s.last_flush_latency_ms.load(r);
        ts.last_flush_unix_ms = s.last_flush_unix_ms.load(r);
        g.tables.push_back(std::move(ts));
    }
    return g;
}

}  // namespace chgate::metrics
