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
    return bytes_and_age_only();
}

}  // namespace chgate::batch
