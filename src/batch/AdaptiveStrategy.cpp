#include "batch/AdaptiveStrategy.hpp"

#include <algorithm>

namespace chgate::batch {

// Start small (the batch configuration guide: "batch.min_size: start small") and grow with
// evidence.
AdaptiveStrategy::AdaptiveStrategy(const config::TableConfig& cfg)
    : Strategy(cfg), current_(cfg.min_batch_size) {}

std::optional<flush::FlushReason> AdaptiveStrategy::own_trigger(const BufferView& b,
                                                                TimePoint now) const {
    if (b.rows >= current_) return flush::FlushReason::size;
    if (now - b.first_append >= cfg_.max_batch_time) return flush::FlushReason::time;
    return std::nullopt;
}

TimePoint AdaptiveStrategy::own_deadline(const BufferView& b) const {
    return b.first_append + cfg_.max_batch_time;
}

void AdaptiveStrategy::on_flushed(const FlushFeedback& f) {
    const auto lo = cfg_.min_batch_size;
    const auto hi = cfg_.max_batch_size;
    const double target = static_cast<double>(cfg_.target_latency.count());
    const double took = static_cast<double>(f.latency.count());
    if (!f.ok) {
        // A failing server gets smaller requests until it recovers.
        current_ = std::max(lo, current_ / 2);
    } else if (took > target) {
        // Shrink in proportion to the overshoot, but at most by half per batch.
        const double factor = std::max(0.5, 0.9 * target / took);
        current_ = std::max(lo, static_cast<std::uint64_t>(static_cast<double>(current_) * factor));
    } else if (f.reason == flush::FlushReason::size && took < 0.7 * target) {
        // Sealed by size with room to spare: the load outruns the batch size.
        const auto grown = static_cast<std::uint64_t>(static_cast<double>(current_) * 1.5);
        current_ = std::min(hi, std::max(current_ + 1, grown));
    }
}

Thresholds AdaptiveStrategy::thresholds() const {
    auto t = Strategy::thresholds();
    t.current_batch_size = current_;
    return t;
}

}  // namespace chgate::batch
