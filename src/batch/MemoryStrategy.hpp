#pragma once

#include <cstdint>

#include "batch/Strategy.hpp"

namespace chgate::batch {

/// Seals only on bytes (half of max_memory) and the hard max_age.
class MemoryStrategy final : public Strategy {
  public:
    using Strategy::Strategy;
    Thresholds thresholds() const override;
    /// No row limit: only bytes bound a batch.
    std::uint64_t row_limit() const override { return UINT64_MAX; }

  protected:
    std::optional<flush::FlushReason> own_trigger(const BufferView& b,
                                                  TimePoint now) const override;
    TimePoint own_deadline(const BufferView& b) const override;
};

}  // namespace chgate::batch
