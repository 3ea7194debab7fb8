#pragma once

#include "batch/Strategy.hpp"

namespace chgate::batch {

/// Fixed windows of max_batch_time on the monotonic clock: every batch holds one
/// window's rows and is sealed when its window closes, so INSERTs come at a
/// steady cadence. max_batch_size caps the rows of one INSERT.
class TimeStrategy final : public Strategy {
  public:
    using Strategy::Strategy;

  protected:
    std::optional<flush::FlushReason> own_trigger(const BufferView& b,
                                                  TimePoint now) const override;
    TimePoint own_deadline(const BufferView& b) const override;
};

}  // namespace chgate::batch
