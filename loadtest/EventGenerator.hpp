#pragma once

#include <cstdint>
#include <string>

namespace chgate::load {

/// The analytics example's events, about 260 bytes each, with ids unique to one
/// run ("<run>-<connection>-<sequence>") so --verify can count them.
class EventGenerator {
  public:
    EventGenerator(std::string run_id, int connection);

    /// Replaces `out` with `count` events: a JSON array, or NDJSON lines.
    void fill(std::string& out, int count, bool ndjson);

    std::uint64_t generated() const { return sequence_; }

  private:
    void append_event(std::string& out);

    std::string prefix_;
    std::uint64_t sequence_ = 0;
    std::uint64_t rng_;
};

}  // namespace chgate::load
