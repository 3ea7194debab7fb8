#pragma once

#include "batch/Strategy.hpp"

namespace chgate::batch {

/// Whichever comes first: max_batch_size rows, or the oldest row max_batch_time old.
class HybridStrategy final : public Strategy {
  public:
    using Strategy::Strategy;

  protected:
    std::optional<flush::FlushReason> own_trigger(const BufferView& b,
                                                  TimePoint now) const override;
    TimePoint own_deadline(const BufferView& b) const override;
};

}  // namespace chgate::batch
