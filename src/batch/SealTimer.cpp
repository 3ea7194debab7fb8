#include "batch/SealTimer.hpp"

#include "flush/FlushQueue.hpp"
#include "store/DeadLetters.hpp"
#include "store/Storage.hpp"

namespace chgate::batch {

using namespace std::chrono_literals;

SealTimer::SealTimer(TableRegistry& registry, flush::FlushQueue& queue, store::Storage* storage)
    : registry_(registry), queue_(queue), storage_(storage) {}

void SealTimer::start() {
    next_tidy_ = Clock::now() + 1s;
    task_.start(
        "chgate-timer", [this](bool last) { return last ? TimePoint{} : seal_due(); },
        Clock::now());
}

TimePoint SealTimer::seal_due() {
    const auto now = Clock::now();
    auto next = now + 1s;
    std::vector<flush::Batch> due;
    for (const auto& buffer : registry_.buffers()) {
        if (buffer->deadline() > now) {
            next = std::min(next, buffer->deadline());
        } else if (auto b = buffer->seal_if_due(now)) {
            due.push_back(std::move(*b));
        } else {
            next = std::min(next, buffer->deadline());
        }
    }
    // Hand batches over outside the decision loop.
    for (auto& b : due)
        queue_.push(std::move(b));
    if (now >= next_tidy_) tidy(now);
    return next;
}

void SealTimer::tidy(TimePoint now) {
    registry_.close_idle_buffers(now);
    if (storage_ != nullptr) {
        storage_->dead_letters().expire(std::chrono::system_clock::now(),
                                        registry_.startup_config().storage.dead_letter_retention);
    }
    // A tenth of the TTL, within [1 s, 1 min]: the scan takes the lock every
    // route needs, so not more often than it must.
    const auto ttl = registry_.live_config()->batching.idle_buffer_ttl;
    next_tidy_ = now + std::clamp<Clock::duration>(ttl / 10, 1s, 1min);
}

}  // namespace chgate::batch
