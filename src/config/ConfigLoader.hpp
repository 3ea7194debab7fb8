#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "config/Config.hpp"
#include "config/EnvSubst.hpp"

namespace chgate::config {

/// A configuration that cannot be used. The message names the file, the line
/// and the YAML path, e.g. "chgate.yaml:14: batching.tables.events.max_batch_size:
/// must be at least 1, got 0".
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct LoadedConfig {
    ConfigPtr config;
    /// Things that load but probably are not what the operator meant, such as a
    /// key the table's strategy ignores. Logged at start, printed by --check-config.
    std::vector<std::string> warnings;
};

/// Reads, substitutes ${VAR}s, validates. Throws ConfigError.
LoadedConfig load_config_file(const std::string& path, const EnvLookup& env = process_env());

/// The same, from text; `source` names it in messages.
LoadedConfig load_config_text(const std::string& yaml, const std::string& source,
                              const EnvLookup& env = process_env());

/// The built-in values a preset strategy name overlays (mega_batch, low_latency),
/// and the kind an alias stands for. Returns false for an unknown name.
bool resolve_strategy_name(const std::string& name, StrategyKind& kind);

}  // namespace chgate::config
