#include "http/TokenBucket.hpp"

#include <algorithm>

namespace chgate::http {

void TokenBucket::refill(Clock::time_point now) {
    if (now > last_) {
        const std::chrono::duration<double> elapsed = now - last_;
        tokens_ = std::min(rate_, tokens_ + elapsed.count() * rate_);
        last_ = now;
    }
}

TokenBucket::Decision TokenBucket::take(double n, Clock::time_point now) {
    LockGuard lock(mutex_);
    refill(now);
    Decision d;
    if (tokens_ <= 0) {
        d.allowed = false;
        d.wait_seconds = rate_ > 0 ? (-tokens_ + 1) / rate_ : 1.0;
        return d;
    }
    tokens_ -= n;
    d.remaining = std::max(0.0, tokens_);
    return d;
}

void TokenBucket::set_rate(double rate) {
    LockGuard lock(mutex_);
    rate_ = rate;
    tokens_ = std::min(tokens_, rate_);
}

double TokenBucket::rate() const {
    LockGuard lock(mutex_);
    return rate_;
}

}  // namespace chgate::http
