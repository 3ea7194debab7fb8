#include "core/ShardSlots.hpp"

#include <algorithm>
#include <stdexcept>

namespace chgate::core {

ShardSlots::ShardSlots(std::span<const std::uint32_t> weights) {
    std::uint64_t end = 0;
    for (const auto w : weights) {
        end += w;
        ends_.push_back(end);
    }
    if (end == 0) throw std::invalid_argument("no shard has a weight above 0");
}

std::size_t ShardSlots::shard_of(std::uint64_t key) const {
    const auto slot = key % total_weight();
    // The first shard whose slots end past `slot`; shards of weight 0 end
    // where the one before them does, so they are never it.
    const auto it = std::upper_bound(ends_.begin(), ends_.end(), slot);
    return static_cast<std::size_t>(it - ends_.begin());
}

}  // namespace chgate::core
