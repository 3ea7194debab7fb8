#include "batch/DeadLetterReplay.hpp"

#include <future>
#include <thread>

#include "batch/BatchManager.hpp"
#include "store/DeadLetters.hpp"
#include "util/Log.hpp"
#include "util/Progress.hpp"

namespace chgate::batch {

using namespace std::chrono_literals;

namespace {
constexpr auto kProgressInterval = 5s;
}

DeadLetterReplayResult replay_dead_letters(BatchManager& manager, store::DeadLetters& dead_letters,
                                           const std::string& database, const std::string& table,
                                           const std::atomic<bool>& stop, ProgressBoard* progress) {
    DeadLetterReplayResult result;
    constexpr std::size_t kChunkBytes = 1 << 20;
    auto all = dead_letters.take(database, table);
    std::uint64_t total_bytes = 0, read_bytes = 0;
    for (const auto& taken : all)
        total_bytes += taken.bytes;
    ProgressScope shown(progress, "dead_letter_replay", database + "." + table);
    shown->set_bytes(0, total_bytes);
    for (auto& taken : all) {
        const auto route = manager.registry().route_for_recovery(taken.target);
        if (!route.buffer) {
            result.error = "table " + database + "." + table + " cannot take rows";
            break;
        }
        // Every chunk reports to one waiter; the files go once it has heard from all.
        // The waiter owns the promise: a flusher may report after this call returned
        // (stopping, or a chunk refused), and must not touch a promise that is gone.
        auto done = std::make_shared<std::promise<flush::CommitOutcome>>();
        auto future = done->get_future();
        auto waiter = std::make_shared<flush::CommitWaiter>(
            [done](const flush::CommitOutcome& o) { done->set_value(o); });
        std::string body;
        std::vector<core::RowSlice> slices;
        std::uint64_t rows = 0;
        bool ok = true;
        auto flush = [&] {
            if (slices.empty() || !ok) return;
            ok = manager.append_waiting(*route.buffer, body, slices, waiter, stop, result.error);
            if (ok) {
                shown->advance(slices.size());
                shown->set_bytes(read_bytes, total_bytes);
                if (shown->due(Progress::Clock::now(), kProgressInterval)) {
                    LOG_INFO << log::table(database + "." + table) << "dead letters of " << database
                             << "." << table << ": sending again: "
                             << describe(shown->view(Progress::Clock::now()));
                }
            }
            body.clear();
            slices.clear();
        };
        for (const auto& file : taken.files) {
            store::DeadLetters::read_entries(
                file, [&](std::string_view record, std::string_view row) {
                    slices.push_back({static_cast<std::uint32_t>(body.size()),
                                      static_cast<std::uint32_t>(row.size()), false});
                    body.append(row).push_back('\n');
                    ++rows;
                    // The line's bytes: the record, ,"row": and the row, and a newline.
                    read_bytes += record.size() + row.size() + 8;
                    if (body.size() >= kChunkBytes) flush();
                });
        }
        flush();
        waiter->arm();
        // On failure the files stay aside and come back at the next start.
        if (!ok) break;
        // Rows still in the open buffer go out now rather than at its deadline.
        manager.seal(*route.buffer, flush::FlushReason::replay);
        while (future.wait_for(100ms) != std::future_status::ready) {
            if (stop.load()) {
                result.error = "chgate is stopping; the rest comes back at the next start";
                return result;
            }
        }
        const auto outcome = future.get();
        result.rows += rows;
        if (outcome.committed) result.committed += rows;
        dead_letters.release(taken);
        LOG_INFO << "dead letters of " << database << "." << table << ": " << rows
                 << " rows sent again"
                 << (outcome.committed ? "" : "; some were refused again: " + outcome.error);
    }
    return result;
}

}  // namespace chgate::batch
