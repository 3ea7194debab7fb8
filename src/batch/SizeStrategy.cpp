#include "batch/SizeStrategy.hpp"

namespace chgate::batch {

std::optional<flush::FlushReason> SizeStrategy::own_trigger(const BufferView& b, TimePoint) const {
    if (b.rows >= cfg_.max_batch_size) return flush::FlushReason::size;
    return std::nullopt;
}

TimePoint SizeStrategy::own_deadline(const BufferView&) const {
    return TimePoint::max();
}

Thresholds SizeStrategy::thresholds() const {
    auto t = Strategy::thresholds();
    t.max_batch_time = milliseconds{0};
    return t;
}

}  // namespace chgate::batch
