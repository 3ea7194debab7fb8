#pragma once

#include <string>

#include "config/Config.hpp"

namespace chgate::config {

/// The configuration as YAML that chgate would load back to the same values,
/// with every default filled in and the ClickHouse password masked.
std::string print_effective_config(const Config& c);

}  // namespace chgate::config
