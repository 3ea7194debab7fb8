#include "batch/ImmediateStrategy.hpp"

namespace chgate::batch {

std::optional<flush::FlushReason> ImmediateStrategy::own_trigger(const BufferView& b,
                                                                 TimePoint) const {
    if (b.rows > 0) return flush::FlushReason::immediate;
    return std::nullopt;
}

TimePoint ImmediateStrategy::own_deadline(const BufferView& b) const {
    return b.first_append;
}

Thresholds ImmediateStrategy::thresholds() const {
    auto t = Strategy::thresholds();
    t.max_batch_size = 0;
    t.current_batch_size = 0;
    t.max_batch_time = milliseconds{0};
    return t;
}

}  // namespace chgate::batch
