#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "config/ConfigDiff.hpp"
#include "http/Response.hpp"
#include "http/Router.hpp"

namespace chgate::batch {
class BatchManager;
}
namespace chgate::store {
class Storage;
}

namespace chgate::http {

/// /admin/: dead-letter counts and replay. With admin.token set, every request
/// needs "Authorization: Bearer <token>" (401 without it, 403 with another).
class AdminHandler {
  public:
    AdminHandler(batch::BatchManager& manager, store::Storage* storage, std::string token);
    ~AdminHandler();

    /// `path` is below /admin. nullopt: answered later through `defer`.
    std::optional<Response> handle(const Request& req, std::string_view path, const Defer& defer);

    /// What POST /admin/reload runs (the App's reload); unset: 404.
    void set_reload(std::function<config::ReloadReport()> reload) { reload_ = std::move(reload); }

    /// Ends replays in progress (their files come back at the next start) and
    /// joins their threads. Before the batch manager goes.
    void stop();

  private:
    std::optional<Response> refuse_unauthorized(const Request& req) const;
    Response dead_letters() const;
    /// POST /admin/flush[/{table}]: seals open buffers now; 202 once queued.
    Response flush(std::string_view table);
    std::optional<Response> replay(std::string_view table, const Defer& defer);
    /// POST /admin/reload: 200 with what changed, 400 for a file that does not
    /// load. On an admin thread (answer_from_thread): it reads a file.
    Response reload();
    /// Runs `work` on a thread of its own, never the io thread (it reads files,
    /// waits for ClickHouse, reloads the config), and answers with its result.
    std::optional<Response> answer_from_thread(const Defer& defer, std::function<Response()> work);

    batch::BatchManager& manager_;
    store::Storage* const storage_;
    const std::string token_;
    std::function<config::ReloadReport()> reload_;  // set before the server starts
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    // Guarded by mutex_: answer_from_thread's threads, each with a flag it sets
    // when done, so that finished ones are joined as new ones start.
    std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads_;
};

}  // namespace chgate::http
