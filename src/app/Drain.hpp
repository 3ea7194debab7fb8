#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "config/Config.hpp"

namespace chgate::app {

/// Where `chgate drain` reaches the chgate running with `config`: its
/// server.listen, with a wildcard address turned into loopback, as an
/// http:// or https:// URL of POST /admin/drain. Empty, with `error`, when
/// it cannot (client certificates required).
std::string drain_url(const config::Config& config, std::chrono::milliseconds timeout,
                      std::string& error);

/// chgate drain: asks the chgate running with `config` to drain, and waits
/// for its answer, which it prints to `out`. `token`: the admin token (may be
/// empty). Returns the exit status: 0 drained (the instance then stops), 1
/// not within `timeout` or no answer.
int run_drain(const config::Config& config, std::chrono::milliseconds timeout,
              const std::string& token, std::ostream& out, std::ostream& err);

}  // namespace chgate::app
