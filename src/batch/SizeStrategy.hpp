#pragma once

#include "batch/Strategy.hpp"

namespace chgate::batch {

/// Seals at max_batch_size rows; otherwise only the common limits apply.
class SizeStrategy final : public Strategy {
  public:
    using Strategy::Strategy;
    Thresholds thresholds() const override;

  protected:
    std::optional<flush::FlushReason> own_trigger(const BufferView& b,
                                                  TimePoint now) const override;
    TimePoint own_deadline(const BufferView& b) const override;
};

}  // namespace chgate::batch
