#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace chgate {
class ProgressBoard;
}
namespace chgate::store {
class DeadLetters;
}

namespace chgate::batch {

class BatchManager;

struct DeadLetterReplayResult {
    std::uint64_t rows = 0;       ///< sent again
    std::uint64_t committed = 0;  ///< of those, inserted (the rest were refused again)
    std::string error;            ///< set when the replay could not finish
};

/// Sends a table's dead letters again (after a schema fix, say). The files are
/// moved aside, their rows appended to the table's buffers like new events, and
/// the files deleted only once every row is committed or dead-lettered anew, so
/// a crash midway loses nothing (the files come back at the next start).
/// Blocks: run it off the io threads. Shows its progress on `progress` (if
/// set) and in the log every 5 s: rows sent, and about how many are left
/// from the bytes of the files still to read.
DeadLetterReplayResult replay_dead_letters(BatchManager& manager, store::DeadLetters& dead_letters,
                                           const std::string& database, const std::string& table,
                                           const std::atomic<bool>& stop,
                                           ProgressBoard* progress = nullptr);

}  // namespace chgate::batch
