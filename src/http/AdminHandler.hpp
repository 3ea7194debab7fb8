#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "batch/QuarantineReplay.hpp"
#include "config/ConfigDiff.hpp"
#include "http/Response.hpp"
#include "http/Router.hpp"
#include "util/Mutex.hpp"

namespace chgate::batch {
class BatchManager;
}
namespace chgate::store {
class Storage;
}

namespace chgate {
class ProgressBoard;
}

namespace chgate::http {

/// What a drain left: nothing, once it is done.
struct DrainReport {
    bool drained = false;
    std::uint64_t rows_in_memory = 0;  ///< buffered, or sealed and not yet inserted
    std::uint64_t spool_batches = 0;
    std::uint64_t spool_rows = 0;
    std::uint64_t spool_bytes = 0;
    bool replaying = false;  ///< the write-ahead logs are still being replayed
};

/// /admin/: flush, reload, drain, dead-letter counts and replay, quarantine replay. Who may use it
/// is decided before (Access::check_admin). Work that takes long (a reload, a replay) runs on one
/// admin thread at a time: a second request meanwhile gets 409.
class AdminHandler {
  public:
    AdminHandler(batch::BatchManager& manager, store::Storage* storage);
    ~AdminHandler();

    /// `path` is below /admin. nullopt: answered later through `defer`.
    std::optional<Response> handle(const Request& req, std::string_view path, const Defer& defer);

    /// What POST /admin/reload runs (the App's reload); unset: 404.
    void set_reload(std::function<config::ReloadReport()> reload) { reload_ = std::move(reload); }
    /// What POST /admin/drain runs (the App's drain): takes no more events,
    /// waits up to the timeout for everything accepted to be in ClickHouse,
    /// then stops the process. Unset: 404.
    void set_drain(std::function<DrainReport(std::chrono::milliseconds)> drain) {
        drain_ = std::move(drain);
    }

    /// What POST /admin/quarantine/{table}/replay runs for a table with
    /// on_invalid: quarantine (the App's: it reads the columns again first).
    /// Unset: 404.
    using QuarantineReplay = std::function<batch::QuarantineReplayResult(
        batch::Table&, const batch::QuarantineFilter&, const std::atomic<bool>& stop)>;
    void set_quarantine_replay(QuarantineReplay replay) { quarantine_replay_ = std::move(replay); }
    /// Where dead-letter replays show their progress (/readyz).
    void set_progress(ProgressBoard* board) { progress_ = board; }

    /// Ends replays in progress (their files come back at the next start) and
    /// joins their threads. Before the batch manager goes.
    void stop();

  private:
    Response dead_letters() const;
    /// POST /admin/flush[/{table}]: seals open buffers now; 202 once queued.
    Response flush(std::string_view table);
    std::optional<Response> replay(std::string_view table, const Defer& defer);
    /// POST /admin/quarantine/{table}/replay[?since=&code=&field=].
    std::optional<Response> replay_quarantine(std::string_view table, std::string_view url_query,
                                              const Defer& defer);
    /// POST /admin/reload: 200 with what changed, 400 for a file that does not
    /// load. On an admin thread (answer_from_thread): it reads a file.
    Response reload();
    /// POST /admin/drain[?timeout=5m]: 200 once drained (chgate then
    /// stops), 504 with what is left if the timeout came first.
    std::optional<Response> drain(std::string_view url_query, const Defer& defer);
    /// Runs `work` on the admin thread, never the io thread (it reads files,
    /// waits for ClickHouse, reloads the config), and answers with its result;
    /// 409 while the thread is busy with earlier work.
    std::optional<Response> answer_from_thread(const Defer& defer, std::function<Response()> work);

    batch::BatchManager& manager_;
    store::Storage* const storage_;
    std::function<config::ReloadReport()> reload_;  // set before the server starts
    std::function<DrainReport(std::chrono::milliseconds)> drain_;
    QuarantineReplay quarantine_replay_;
    ProgressBoard* progress_ = nullptr;
    std::atomic<bool> stopping_{false};
    Mutex mutex_;
    // Guarded by mutex_: the admin thread of the last work, and whether it is done.
    std::thread worker_ GUARDED_BY(mutex_);
    std::shared_ptr<std::atomic<bool>> worker_done_ GUARDED_BY(mutex_);
};

}  // namespace chgate::http
