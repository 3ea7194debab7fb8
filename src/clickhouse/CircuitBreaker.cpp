#include "clickhouse/CircuitBreaker.hpp"

namespace chgate::clickhouse {

CircuitBreaker::CircuitBreaker(int failures, std::chrono::milliseconds cooldown)
    : threshold_(failures), cooldown_(cooldown) {}

bool CircuitBreaker::allow(Clock::time_point now) {
    LockGuard lock(mutex_);
    switch (state_) {
        case State::closed:
            return true;
        case State::open:
            if (now - opened_at_ < cooldown_) return false;
            state_ = State::half_open;
            trial_in_flight_ = true;
            return true;
        case State::half_open:
            if (trial_in_flight_) return false;
            trial_in_flight_ = true;
            return true;
    }
    return false;
}

void CircuitBreaker::on_success() {
    LockGuard lock(mutex_);
    state_ = State::closed;
    failures_ = 0;
    trial_in_flight_ = false;
}

void CircuitBreaker::on_failure(Clock::time_point now) {
    LockGuard lock(mutex_);
    ++failures_;
    trial_in_flight_ = false;
    if (state_ == State::half_open || (state_ == State::closed && failures_ >= threshold_)) {
        state_ = State::open;
        opened_at_ = now;
    }
}

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
    LockGuard lock(mutex_);
    // An open breaker past its cool-down reads as half-open: the next request is a trial.
    if (state_ == State::open && now - opened_at_ >= cooldown_) return State::half_open;
    return state_;
}

int CircuitBreaker::consecutive_failures() const {
    LockGuard lock(mutex_);
    return failures_;
}

const char* to_string(CircuitBreaker::State s) {
    switch (s) {
        case CircuitBreaker::State::closed:
            return "closed";
        case CircuitBreaker::State::open:
            return "open";
        case CircuitBreaker::State::half_open:
            return "half_open";
    }
    return "?";
}

}  // namespace chgate::clickhouse
