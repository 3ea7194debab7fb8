#pragma once

#include "batch/Strategy.hpp"

namespace chgate::batch {

/// Seals only on bytes (half of max_memory) and the hard max_age.
class MemoryStrategy final : public Strategy {
  public:
    using Strategy::Strategy;
    Thresholds thresholds() const override;

  protected:
    std::optional<FlushReason> own_trigger(const BufferView& b, TimePoint now) const override;
    TimePoint own_deadline(const BufferView& b) const override;
};

}  // namespace chgate::batch
