#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "config/Config.hpp"
#include "core/Clock.hpp"
#include "flush/Batch.hpp"

namespace chgate::batch {

/// What a strategy sees of an open (non-empty) buffer.
struct BufferView {
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
    TimePoint first_append{};
};

/// How a sealed batch fared in ClickHouse; adaptive strategies learn from it.
struct FlushFeedback {
    std::uint64_t rows = 0;
    milliseconds latency{0};
    flush::FlushReason reason = flush::FlushReason::size;
    bool ok = true;
};

/// The thresholds in force right now, shown in /metrics.
struct Thresholds {
    std::uint64_t max_batch_size = 0;      ///< 0: rows do not trigger a seal
    std::uint64_t current_batch_size = 0;  ///< what triggers now (adaptive moves it)
    milliseconds max_batch_time{0};        ///< 0: time does not trigger a seal
    std::uint64_t seal_bytes = 0;
    milliseconds max_age{0};
};

/// Decides when a table's buffer becomes a batch. Every strategy also seals on
/// the two limits no table may exceed: the oldest row reaching max_age, and the
/// buffer reaching half the table's max_memory (the other half leaves room for
/// the next batch to fill while this one is sent). The TableBuffer's mutex
/// guards every call.
class Strategy {
  public:
    explicit Strategy(const config::TableConfig& cfg);
    virtual ~Strategy() = default;

    /// Seal now, and why; nullopt keeps the buffer open. Called after each append
    /// and whenever deadline() passes.
    std::optional<flush::FlushReason> should_seal(const BufferView& b, TimePoint now) const;

    /// The latest time the buffer may stay open.
    TimePoint deadline(const BufferView& b) const;

    /// The most rows one batch may hold; a request with more is split.
    virtual std::uint64_t row_limit() const { return cfg_.max_batch_size; }
    /// A batch is sealed once it holds this many bytes.
    std::uint64_t seal_bytes() const { return seal_bytes_; }

    virtual void on_flushed(const FlushFeedback&) {}
    virtual Thresholds thresholds() const;

  protected:
    /// The strategy's own trigger, checked after the common limits.
    virtual std::optional<flush::FlushReason> own_trigger(const BufferView& b,
                                                          TimePoint now) const = 0;
    /// The strategy's own deadline; TimePoint::max() for none.
    virtual TimePoint own_deadline(const BufferView& b) const = 0;
    /// The thresholds of a strategy that bounds neither rows nor time:
    /// only bytes and max_age.
    Thresholds bytes_and_age_only() const {
        return Thresholds{0, 0, milliseconds{0}, seal_bytes_, cfg_.max_age};
    }

    const config::TableConfig cfg_;
    const std::uint64_t seal_bytes_;
};

/// Builds the strategy a table's configuration names.
std::unique_ptr<Strategy> make_strategy(const config::TableConfig& cfg);

}  // namespace chgate::batch
