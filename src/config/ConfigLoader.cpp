#include "config/ConfigLoader.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "config/ConfigSchema.hpp"

namespace chgate::config {

bool resolve_strategy_name(const std::string& name, StrategyKind& kind) {
    return core::value_of(kStrategyNames, name, kind);
}

LoadedConfig load_config_text(const std::string& yaml, const std::string& source,
                              const EnvLookup& env) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) +
                          ": YAML syntax error: " + e.msg);
    }
    try {
        if (root.IsNull() || !root.IsDefined()) {
            throw ConfigError(source +
                              ": the file is empty; see config/chgate.yaml for a full example");
        }
        Reader reader(source, env);
        auto config = std::make_shared<Config>();
        keys::read_section(reader, root, "", keys::config_schema(), *config);
        return LoadedConfig{std::move(config), reader.take_warnings()};
    } catch (const YAML::Exception& e) {
        // A shape the checks above did not foresee: still a config error, never a crash.
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
}

LoadedConfig load_config_file(const std::string& path, const EnvLookup& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot open the configuration file");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(path + ": cannot read the configuration file");
    return load_config_text(text.str(), path, env);
}

}  // namespace chgate::config
