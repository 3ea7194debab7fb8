#include "batch/MemoryStrategy.hpp"

namespace chgate::batch {

// Bytes are the common limit every strategy checks; this one adds nothing to it.
std::optional<flush::FlushReason> MemoryStrategy::own_trigger(const BufferView&, TimePoint) const {
    return std::nullopt;
}

TimePoint MemoryStrategy::own_deadline(const BufferView&) const {
    return TimePoint::max();
}

Thresholds MemoryStrategy::thresholds() const {
    auto t = Strategy::thresholds();
    t.max_batch_size = 0;
    t.current_batch_size = 0;
    t.max_batch_time = milliseconds{0};
    return t;
}

}  // namespace chgate::batch
