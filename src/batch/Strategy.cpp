#include "batch/Strategy.hpp"

#include <algorithm>

#include "batch/AdaptiveStrategy.hpp"
#include "batch/HybridStrategy.hpp"
#include "batch/ImmediateStrategy.hpp"
#include "batch/MemoryStrategy.hpp"
#include "batch/SizeStrategy.hpp"
#include "batch/TimeStrategy.hpp"

namespace chgate::batch {

Strategy::Strategy(const config::TableConfig& cfg)
    : cfg_(config::resolve_max_age(cfg)),
      seal_bytes_(std::max<std::uint64_t>(cfg.max_memory / 2, 1)) {}

std::optional<flush::FlushReason> Strategy::should_seal(const BufferView& b, TimePoint now) const {
    if (b.rows == 0) return std::nullopt;
    // The strategy's own reason wins when several apply, so the metrics say
    // "time" rather than "age" for a hybrid table whose limits coincide.
    if (auto reason = own_trigger(b, now)) return reason;
    if (b.bytes >= seal_bytes_) return flush::FlushReason::memory;
    if (now - b.first_append >= cfg_.max_age) return flush::FlushReason::age;
    return std::nullopt;
}

TimePoint Strategy::deadline(const BufferView& b) const {
    return std::min(b.first_append + cfg_.max_age, own_deadline(b));
}

Thresholds Strategy::thresholds() const {
    return Thresholds{cfg_.max_batch_size, cfg_.max_batch_size, cfg_.max_batch_time, seal_bytes_,
                      cfg_.max_age};
}

std::unique_ptr<Strategy> make_strategy(const config::TableConfig& cfg) {
    switch (cfg.strategy) {
        case config::StrategyKind::immediate:
            return std::make_unique<ImmediateStrategy>(cfg);
        case config::StrategyKind::time:
            return std::make_unique<TimeStrategy>(cfg);
        case config::StrategyKind::size:
            return std::make_unique<SizeStrategy>(cfg);
        case config::StrategyKind::hybrid:
            return std::make_unique<HybridStrategy>(cfg);
        case config::StrategyKind::memory:
            return std::make_unique<MemoryStrategy>(cfg);
        case config::StrategyKind::adaptive:
            return std::make_unique<AdaptiveStrategy>(cfg);
    }
    return std::make_unique<HybridStrategy>(cfg);
}

}  // namespace chgate::batch
