#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace chgate::core {

/// At most this many shards in a cluster: each has its own buffers and logs
/// per table.
constexpr std::size_t kMaxShards = 256;

/// Which shard a sharding key's value picks, as ClickHouse's Distributed
/// engine picks it: the shards, in their order in remote_servers, take
/// `weight` consecutive slots each, and a row goes to the slot
/// value % (sum of weights). A shard of weight 0 gets no rows.
class ShardSlots {
  public:
    /// Throws std::invalid_argument when no shard has a weight.
    explicit ShardSlots(std::span<const std::uint32_t> weights);

    /// `key`: the sharding expression's value, zero-extended from its type's
    /// width (ClickHouse reads a signed key as unsigned: an Int32 -1 is
    /// 0xFFFFFFFF).
    std::size_t shard_of(std::uint64_t key) const;
    std::uint64_t total_weight() const { return ends_.empty() ? 0 : ends_.back(); }
    std::size_t shards() const { return ends_.size(); }

  private:
    std::vector<std::uint64_t> ends_;  // shard i holds slots [ends_[i-1], ends_[i])
};

}  // namespace chgate::core
