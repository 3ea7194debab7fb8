#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace chgate::app {

struct CliOptions {
    enum class Action {
        run,
        check_config,
        drain,
        status,
        top,
        help,
        version,
        error
    } action = Action::error;
    std::string config_path;
    /// chgate drain --timeout: how long the running chgate may take.
    std::chrono::milliseconds drain_timeout{std::chrono::minutes(5)};
    /// chgate status / top: the running chgate's base URL, the refresh (top)
    /// or the gap between the two readings rates are taken from (status).
    std::string url = "http://127.0.0.1:8080";
    std::chrono::milliseconds interval{1000};
    bool json = false;  ///< chgate status --json
    std::string error;  ///< for Action::error
};

/// Parses the command line. Pure, so every case is unit-tested.
CliOptions parse_cli(const std::vector<std::string>& args);

/// The --help text.
std::string usage();

}  // namespace chgate::app
