#pragma once

#include "batch/Strategy.hpp"

namespace chgate::batch {

/// One batch per request: a seal after every append.
class ImmediateStrategy final : public Strategy {
  public:
    using Strategy::Strategy;
    Thresholds thresholds() const override;

  protected:
    std::optional<FlushReason> own_trigger(const BufferView& b, TimePoint now) const override;
    TimePoint own_deadline(const BufferView& b) const override;
};

}  // namespace chgate::batch
