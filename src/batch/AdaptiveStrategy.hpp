#pragma once

#include "batch/Strategy.hpp"

namespace chgate::batch {

/// Hybrid, but the size trigger moves between min_batch_size and max_batch_size:
/// it grows while INSERTs sealed by size come back well inside target_latency,
/// and shrinks when they take longer or fail. Under rising load batches grow,
/// so the INSERT rate stays low while each INSERT stays within the target.
class AdaptiveStrategy final : public Strategy {
  public:
    explicit AdaptiveStrategy(const config::TableConfig& cfg);
    void on_flushed(const FlushFeedback& f) override;
    Thresholds thresholds() const override;
    std::uint64_t row_limit() const override { return current_; }
    std::uint64_t current_batch_size() const { return current_; }

  protected:
    std::optional<flush::FlushReason> own_trigger(const BufferView& b,
                                                  TimePoint now) const override;
    TimePoint own_deadline(const BufferView& b) const override;

  private:
    std::uint64_t current_;
};

}  // namespace chgate::batch
