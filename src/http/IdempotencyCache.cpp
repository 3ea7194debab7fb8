#include "http/IdempotencyCache.hpp"

namespace chgate::http {

IdempotencyCache::IdempotencyCache(std::chrono::milliseconds window, std::size_t max_keys)
    : window_(window), max_keys_(max_keys) {}

void IdempotencyCache::expire(Clock::time_point now) {
    while (!order_.empty()) {
        auto it = entries_.find(order_.front());
        const bool too_old = it == entries_.end() || now - it->second.at > window_;
        if (!too_old && entries_.size() <= max_keys_) break;
        if (it != entries_.end()) entries_.erase(it);
        order_.pop_front();
    }
}

IdempotencyCache::Claim IdempotencyCache::claim(const std::string& key, Clock::time_point now,
                                                Response& stored) {
    LockGuard lock(mutex_);
    expire(now);
    if (auto it = entries_.find(key); it != entries_.end()) {
        if (!it->second.answered) return Claim::in_progress;
        stored = it->second.response;
        return Claim::answered;
    }
    order_.push_back(key);
    entries_.emplace(key, Entry{false, {}, now, std::prev(order_.end())});
    expire(now);  // keeps the map within max_keys
    return Claim::fresh;
}

void IdempotencyCache::complete(const std::string& key, const Response& r, Clock::time_point now) {
    const auto code = static_cast<int>(r.status);
    if (code < 200 || code >= 300) return forget(key);
    LockGuard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;  // evicted meanwhile
    it->second.answered = true;
    it->second.response = r;
    it->second.at = now;
    order_.erase(it->second.position);
    order_.push_back(key);
    it->second.position = std::prev(order_.end());
}

void IdempotencyCache::forget(const std::string& key) {
    LockGuard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    order_.erase(it->second.position);
    entries_.erase(it);
}

std::size_t IdempotencyCache::size() const {
    LockGuard lock(mutex_);
    return entries_.size();
}

}  // namespace chgate::http
