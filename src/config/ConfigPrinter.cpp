#include "config/ConfigPrinter.hpp"

#include <yaml-cpp/yaml.h>

#include "config/ConfigSchema.hpp"

namespace chgate::config {

namespace {

// A scalar as JSON: what reads as a boolean, an integer or null, as that;
// anything else (durations, sizes, names) as the text.
nlohmann::ordered_json scalar_json(const std::string& text) {
    if (text == "true") return true;
    if (text == "false") return false;
    if (text == "~" || text == "null") return nullptr;
    if (!text.empty() && text.size() < 19 &&
        text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string::npos &&
        text != "-") {
        return std::stoll(text);
    }
    return text;
}

nlohmann::ordered_json yaml_json(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Map: {
            auto out = nlohmann::ordered_json::object();
            for (const auto& kv : n)
                out[kv.first.Scalar()] = yaml_json(kv.second);
            return out;
        }
        case YAML::NodeType::Sequence: {
            auto out = nlohmann::ordered_json::array();
            for (const auto& v : n)
                out.push_back(yaml_json(v));
            return out;
        }
        case YAML::NodeType::Scalar:
            // A quoted scalar is text, whatever it reads as.
            return n.Tag() == "!" ? nlohmann::ordered_json(n.Scalar()) : scalar_json(n.Scalar());
        default:
            return nullptr;
    }
}

}  // namespace

nlohmann::ordered_json table_config_json(const TableConfig& t) {
    YAML::Emitter out;
    keys::print_section(out, keys::table_schema(), t);
    return yaml_json(YAML::Load(out.c_str()));
}

std::string print_effective_config(const Config& c) {
    YAML::Emitter out;
    keys::print_section(out, keys::config_schema(), c);
    return std::string(out.c_str()) + "\n";
}

}  // namespace chgate::config
