#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "config/Config.hpp"

namespace chgate::config {

/// The configuration as YAML that chgate would load back to the same values,
/// with every default filled in and the ClickHouse password masked.
std::string print_effective_config(const Config& c);

/// One table's settings, every default filled in, as JSON (the keys of
/// batching.tables.{name}; durations and sizes as the YAML writes them).
nlohmann::ordered_json table_config_json(const TableConfig& t);

}  // namespace chgate::config
