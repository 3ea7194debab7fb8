#include "core/RateWindow.hpp"

#include <algorithm>

namespace chgate::core {

std::int64_t RateWindow::second_of(TimePoint t) const {
    return std::chrono::duration_cast<std::chrono::seconds>(t - start_).count();
}

void RateWindow::advance(std::int64_t second) const {
    const auto size = static_cast<std::int64_t>(buckets_.size());
    if (second <= newest_) return;
    // Clear the buckets of the seconds that passed with no events.
    const auto steps = std::min(second - newest_, size);
    for (std::int64_t k = 1; k <= steps; ++k)
        buckets_[(newest_ + k) % size] = 0;
    newest_ = second;
}

void RateWindow::add(std::uint64_t count, TimePoint now) {
    const auto second = second_of(now);
    LockGuard lock(mutex_);
    advance(second);
    if (second < newest_ - kWindowSeconds) return;  // too old to matter
    const auto size = static_cast<std::int64_t>(buckets_.size());
    buckets_[(std::max<std::int64_t>(second, 0)) % size] += count;
}

double RateWindow::per_second(TimePoint now) const {
    const auto second = second_of(now);
    LockGuard lock(mutex_);
    advance(second);
    const auto size = static_cast<std::int64_t>(buckets_.size());
    // The second in progress and up to kWindowSeconds - 1 full seconds before it.
    const auto full = std::min<std::int64_t>(kWindowSeconds - 1, second);
    std::uint64_t sum = 0;
    for (std::int64_t k = 0; k <= full; ++k)
        sum += buckets_[(second - k) % size];
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double covered =
        std::min(elapsed, static_cast<double>(full) + (elapsed - static_cast<double>(second)));
    // Under 50 ms there is too little time to call it a rate.
    if (covered < 0.05) return 0.0;
    return static_cast<double>(sum) / covered;
}

}  // namespace chgate::core
