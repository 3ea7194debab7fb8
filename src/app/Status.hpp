#pragma once

#include <chrono>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/Progress.hpp"

namespace chgate::app {

/// What `chgate status` and `chgate top` show: a running chgate's /metrics
/// and /readyz, with rates taken between two readings.
struct StatusView {
    std::string url;
    std::string at;  ///< UTC time of the reading
    bool ready = false;
    std::string not_ready_reason;
    double events_per_second = 0;  ///< committed, gateway-wide (the gateway's own figure)
    std::uint64_t queued_rows = 0;
    double memory_mib = 0;
    std::uint64_t connections = 0;
    std::uint64_t spool_bytes = 0;
    std::uint64_t dead_letter_rows = 0;
    bool has_storage = false;

    struct Table {
        std::string name, strategy, ack;
        double events_per_second = 0;   ///< accepted, between the two readings
        double batches_per_second = 0;  ///< committed INSERTs, between the two readings
        std::uint64_t buffered_rows = 0, pending_rows = 0;
        std::int64_t oldest_pending_age_ms = 0;
        bool held = false;
        std::string held_reason;
        std::uint64_t spool_rows = 0, dead_lettered = 0, quarantined = 0, failed_batches = 0;
    };
    std::vector<Table> tables;

    struct Server {
        std::string url, breaker, version;
        bool reachable = false;
        std::uint64_t consecutive_failures = 0;
    };
    std::vector<Server> servers;

    struct Shard {
        std::uint64_t shard = 0;
        bool reachable = false;
        std::vector<std::string> replicas;
    };
    std::vector<Shard> shards;

    /// /readyz's long operations (log replay, spool drain, replays).
    std::vector<ProgressView> progress;
};

/// The view of one reading of /metrics (`now`) and /readyz, with rates
/// against an earlier reading `before` taken `seconds` earlier (null, or 0
/// seconds: rates are 0). Pure; anything missing reads as 0 or empty.
StatusView make_status_view(const nlohmann::json& now, const nlohmann::json& before, double seconds,
                            const nlohmann::json& readyz);

/// The view as a terminal screen, at most `width` columns wide.
std::string render_status_text(const StatusView& view, std::size_t width = 120);

/// The view as JSON, for scripts (chgate status --json).
nlohmann::ordered_json render_status_json(const StatusView& view);

struct StatusOptions {
    std::string url = "http://127.0.0.1:8080";
    std::string token;  ///< metrics.token (or the admin token); empty: none sent
    std::chrono::milliseconds interval{1000};
    bool json = false;
    bool once = true;  ///< status; false: top, until interrupted
};

/// chgate status / chgate top. Returns the exit status: 0, or 1 when the
/// chgate cannot be read (status) or stops answering (top keeps trying).
int run_status(const StatusOptions& options, std::ostream& out, std::ostream& err);

}  // namespace chgate::app
