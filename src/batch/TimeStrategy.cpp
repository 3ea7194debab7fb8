#include "batch/TimeStrategy.hpp"

namespace chgate::batch {

std::optional<flush::FlushReason> TimeStrategy::own_trigger(const BufferView& b,
                                                            TimePoint now) const {
    if (b.rows >= cfg_.max_batch_size) return flush::FlushReason::size;
    if (now >= own_deadline(b)) return flush::FlushReason::time;
    return std::nullopt;
}

// The end of the window the first row fell into. Windows are whole multiples of
// max_batch_time on the monotonic clock, so a quiet table does not shift them.
TimePoint TimeStrategy::own_deadline(const BufferView& b) const {
    const auto window = std::chrono::duration_cast<Clock::duration>(cfg_.max_batch_time);
    const auto since_epoch = b.first_append.time_since_epoch();
    return TimePoint((since_epoch / window + 1) * window);
}

}  // namespace chgate::batch
