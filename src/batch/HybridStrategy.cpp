#include "batch/HybridStrategy.hpp"

namespace chgate::batch {

std::optional<flush::FlushReason> HybridStrategy::own_trigger(const BufferView& b,
                                                              TimePoint now) const {
    if (b.rows >= cfg_.max_batch_size) return flush::FlushReason::size;
    if (now - b.first_append >= cfg_.max_batch_time) return flush::FlushReason::time;
    return std::nullopt;
}

TimePoint HybridStrategy::own_deadline(const BufferView& b) const {
    return b.first_append + cfg_.max_batch_time;
}

}  // namespace chgate::batch
