#include "config/ConfigDiff.hpp"

#include "config/ConfigSchema.hpp"

namespace chgate::config {

ConfigChanges diff_configs(const Config& before, const Config& after) {
    ConfigChanges out;
    keys::diff_section(keys::config_schema(), before, after, "", out);
    return out;
}

Config apply_reloadable(const Config& before, const Config& after) {
    Config c = before;
    keys::apply_section(keys::config_schema(), c, after);
    return c;
}

}  // namespace chgate::config
