#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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

    /// Ends replays in progress (their files come back at the next start) and
    /// joins their threads. Before the batch manager goes.
    void stop();

  private:
    std::optional<Response> refuse_unauthorized(const Request& req) const;
    Response dead_letters() const;
    std::optional<Response> replay(std::string_view table, const Defer& defer);

    batch::BatchManager& manager_;
    store::Storage* const storage_;
    const std::string token_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::vector<std::thread> threads_;  // guarded by mutex_
};

}  // namespace chgate::http
