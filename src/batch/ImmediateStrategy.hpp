#pragma once

#include <cstdint>

#include "batch/Strategy.hpp"

namespace chgate::batch {

/// One batch per request: a seal after every append.
class ImmediateStrategy final : public Strategy {
  public:
    using Strategy::Strategy;
    Thresholds thresholds() const override;
    /// No row limit: one request is one batch, whatever its size.
    std::uint64_t row_limit() const override { return UINT64_MAX; }

  protected:
    std::optional<flush::FlushReason> own_trigger(const BufferView& b,
                                                  TimePoint now) const override;
    TimePoint own_deadline(const BufferView& b) const override;
};

}  // namespace chgate::batch
