#pragma once

#include "config/ConfigKeys.hpp"

namespace chgate::config::keys {

/// Every section of the configuration file, and every key in it.
const Section<Config>& config_schema();

/// A table block's keys (batching.defaults and each batching.tables entry).
const Section<TableConfig>& table_schema();

}  // namespace chgate::config::keys
