#include "config/ConfigPrinter.hpp"

#include <yaml-cpp/yaml.h>

#include "config/ConfigSchema.hpp"

namespace chgate::config {

std::string print_effective_config(const Config& c) {
    YAML::Emitter out;
    keys::print_section(out, keys::config_schema(), c);
    return std::string(out.c_str()) + "\n";
}

}  // namespace chgate::config
