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
    return bytes_and_age_only();
}

}  // namespace chgate::batch
