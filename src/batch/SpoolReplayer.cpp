#include "batch/SpoolReplayer.hpp"

#include <algorithm>

#include "batch/BatchManager.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "flush/FlushQueue.hpp"
#include "store/Spool.hpp"
#include "util/Log.hpp"

namespace chgate::batch {

using namespace std::chrono_literals;

SpoolReplayer::SpoolReplayer(store::Spool& spool, BatchManager& manager, flush::FlushQueue& queue,
                             const clickhouse::Topology& topology, std::uint64_t bytes_per_second)
    : spool_(spool),
      manager_(manager),
      queue_(queue),
      topology_(topology),
      bucket_(bytes_per_second) {}

namespace {
// Far above any disk or network, and far from overflow.
constexpr std::int64_t kMaxRate = std::int64_t{1} << 50;
}  // namespace

ReplayBucket::ReplayBucket(std::uint64_t bytes_per_second)
    : rate_(static_cast<std::int64_t>(
          std::min<std::uint64_t>(bytes_per_second, static_cast<std::uint64_t>(kMaxRate)))) {}

std::uint64_t ReplayBucket::tick() {
    tokens_ = std::min(rate_, tokens_ + rate_ / 10);
    return tokens_ > 0 ? static_cast<std::uint64_t>(tokens_) : 0;
}

void ReplayBucket::spend(std::uint64_t bytes) {
    // The debt is capped at ten seconds' worth: a batch spooled under a
    // larger max_memory than today's must not stall the drain for minutes.
    tokens_ -= static_cast<std::int64_t>(
        std::min<std::uint64_t>(bytes, static_cast<std::uint64_t>(kMaxRate)));
    tokens_ = std::max(tokens_, -10 * rate_);
}

SpoolReplayer::~SpoolReplayer() {
    stop();
}

namespace {
constexpr auto kTick = 100ms;
constexpr auto kProgressInterval = 5s;
}  // namespace

void SpoolReplayer::start() {
    bucket_.fill();
    task_.start(
        "chgate-spool",
        [this](bool last) {
            if (!last) tick();
            return Clock::now() + kTick;
        },
        Clock::now() + kTick);
}

void SpoolReplayer::stop() {
    task_.stop();
    drain_.reset();
}

void SpoolReplayer::track_drain() {
    const auto left = spool_.rows();
    const bool reachable = topology_.any_reachable();
    if (!drain_) {
        if (left == 0 || !reachable) return;
        drain_ = std::make_unique<ProgressScope>(progress_, "spool_drain", "");
        gone_at_start_ = spool_.rows_gone();
        logged_done_ = 0;
        LOG_INFO << log::rows(left) << "spool: sending " << left << " spooled rows to ClickHouse";
    }
    auto& p = **drain_;
    p.set_done(spool_.rows_gone() - gone_at_start_);
    p.set_left(left);
    const auto now = Clock::now();
    const auto view = p.view(now);
    if (left == 0) {
        LOG_INFO << log::rows(view.rows_done) << "spool: drained, " << view.rows_done << " rows in "
                 << static_cast<std::uint64_t>(view.elapsed_seconds * 1000) << " ms";
        drain_.reset();
    } else if (!reachable) {
        LOG_INFO << "spool: drain paused, no ClickHouse server answers: " << describe(view);
        drain_.reset();
    } else if (view.rows_done != logged_done_ && p.due(now, kProgressInterval)) {
        // Only while rows go: a drain that waits (a held table) shows in /readyz.
        logged_done_ = view.rows_done;
        LOG_INFO << "spool: draining: " << describe(view);
    }
}

void SpoolReplayer::tick() {
    track_drain();
    const auto budget = bucket_.tick();
    if (!topology_.any_reachable() || budget == 0) return;
    bucket_.spend(round(budget));
}

std::uint64_t SpoolReplayer::round(std::uint64_t budget) {
    std::uint64_t used = 0;
    // One batch of each table in turn, oldest first, until the budget is spent
    // or no table takes another.
    for (bool progress = true; progress && used < budget;) {
        progress = false;
        for (const auto& entry : spool_.oldest_per_target()) {
            if (used >= budget) break;
            switch (bring_back(entry)) {
                case Outcome::loaded:
                    used += entry.bytes;
                    progress = true;
                    break;
                case Outcome::set_aside:  // the next one of its table is up now
                    progress = true;
                    break;
                case Outcome::no_room:
                    break;
            }
        }
    }
    return used;
}

SpoolReplayer::Outcome SpoolReplayer::bring_back(const store::SpoolEntry& entry) {
    // A shard that is down keeps its batches; the others' come back.
    const auto shard = entry.target.shard;
    if (shard != 0) {
        const auto replicas = topology_.replicas_for(shard);
        if (replicas && !replicas->any_reachable()) return Outcome::no_room;
    }
    const auto route = manager_.registry().route_for_recovery(entry.target);
    if (!route.buffer) return Outcome::no_room;
    auto& table = route.buffer->table();
    // Loaded only while the table holds at most half of its memory, so that
    // its live requests are still taken meanwhile.
    if (table.held_bytes() > table.config()->max_memory / 2) return Outcome::no_room;
    switch (table.reserve(entry.bytes)) {
        case Admission::ok:
            break;
        case Admission::too_large:
            // Spooled before a reload made the table's memory smaller: it was
            // acknowledged, so it goes through all the same.
            table.force_reserve(entry.bytes);
            break;
        default:
            return Outcome::no_room;
    }
    std::string rows, error;
    bool lasting = false;
    if (!spool_.load(entry, rows, error, lasting)) {
        table.release(entry.bytes);
        if (!lasting) {
            LOG_ERROR << "spool: " << error << "; tried again later";
            return Outcome::no_room;
        }
        // Never in the way of the batches behind it: kept aside, for a person.
        const auto aside = spool_.set_aside(entry.path);
        LOG_ERROR << "spool: " << error << "; batch " << entry.batch_id << " (" << entry.rows
                  << " rows) is not sent"
                  << (aside ? ", the file is kept as " + aside->string() : "");
        return Outcome::set_aside;
    }
    const auto now = Clock::now();
    flush::Batch b;
    b.id = entry.batch_id;  // the same id: a retry is recognisably the same batch
    b.owner = route.buffer;
    b.rows = std::move(rows);
    b.row_count = entry.rows;
    b.first_append = now;
    b.sealed_at = now;
    b.reason = flush::FlushReason::replay;
    b.priority = table.config()->priority;
    b.spool_path = entry.path;
    table.on_replayed(b.row_count, b.rows.size(), b.first_append, b.sealed_at);
    queue_.push(std::move(b));
    return Outcome::loaded;
}

}  // namespace chgate::batch
