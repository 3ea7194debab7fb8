#include "flush/RetryPolicy.hpp"

#include <algorithm>
#include <cmath>

namespace chgate::flush {

std::chrono::milliseconds RetryPolicy::ceiling(int attempt) const {
    const double grown =
        static_cast<double>(initial_.count()) * std::pow(multiplier_, std::max(0, attempt - 1));
    const double capped = std::min(grown, static_cast<double>(max_.count()));
    return std::chrono::milliseconds(static_cast<long long>(capped));
}

std::chrono::milliseconds RetryPolicy::delay(int attempt, double unit) const {
    unit = std::clamp(unit, 0.0, 1.0);
    // At least 1 ms, so that a retry never spins.
    const auto ms = static_cast<long long>(static_cast<double>(ceiling(attempt).count()) * unit);
    return std::chrono::milliseconds(std::max(1LL, ms));
}

}  // namespace chgate::flush
