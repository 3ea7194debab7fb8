#include "config/ConfigReader.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "config/Cidr.hpp"
#include "config/EnvSubst.hpp"

namespace chgate::config {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string line_of(const std::string& source, const YAML::Node& node) {
    // yaml-cpp counts lines from 0 and gives -1 for nodes it made up.
    if (node.IsDefined() && node.Mark().line >= 0) {
        return source + ":" + std::to_string(node.Mark().line + 1);
    }
    return source;
}

}  // namespace

void Reader::fail(const YAML::Node& node, const std::string& path,
                  const std::string& message) const {
    throw ConfigError(line_of(source_, node) + ": " + (path.empty() ? "(top level)" : path) + ": " +
                      message);
}

void Reader::warn(const YAML::Node& node, const std::string& path, const std::string& message) {
    warnings_.push_back(line_of(source_, node) + ": " + path + ": " + message);
}

void Reader::expect_map(const YAML::Node& node, const std::string& path) const {
    if (!node.IsMap()) fail(node, path, "must be a mapping of keys to values");
}

std::string Reader::key(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(node, path, "has a key that is a list or mapping, not a name");
    return node.Scalar();
}

void Reader::check_keys(const YAML::Node& node, const std::string& path,
                        const std::vector<std::string_view>& allowed) const {
    expect_map(node, path);
    for (const auto& entry : node) {
        const auto key = this->key(entry.first, path);
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        std::string message = "unknown key";
        std::string_view best;
        std::size_t best_distance = 3;
        for (auto candidate : allowed) {
            const auto d = edit_distance(key, candidate);
            if (d < best_distance) best_distance = d, best = candidate;
        }
        if (!best.empty()) message += " (did you mean " + std::string(best) + "?)";
        fail(entry.first, path.empty() ? key : path + "." + key, message);
    }
}

std::string Reader::scalar(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(node, path, "must be a single value, not a list or mapping");
    std::string error;
    auto value = substitute_env(node.Scalar(), env_, error);
    if (!value) fail(node, path, error);
    return *value;
}

std::uint64_t Reader::size(const YAML::Node& node, const std::string& path) const {
    const auto text = scalar(node, path);
    auto value = parse_size(text);
    if (!value) {
        fail(node, path,
             "\"" + text + "\" is not a size; write bytes or a unit, like 512KiB or 10MiB");
    }
    return *value;
}

Duration Reader::duration(const YAML::Node& node, const std::string& path) const {
    const auto text = scalar(node, path);
    auto value = parse_duration(text);
    if (!value) {
        fail(node, path,
             "\"" + text +
                 "\" is not a duration; write a number and a unit: 500ms, 2s, 5m, 1h or 1d");
    }
    return *value;
}

std::int64_t Reader::integer(const YAML::Node& node, const std::string& path, std::int64_t min,
                             std::int64_t max) const {
    const auto text = scalar(node, path);
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        fail(node, path, "\"" + text + "\" is not a whole number");
    }
    if (value < min || value > max) {
        fail(node, path,
             "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                 text);
    }
    return value;
}

double Reader::number(const YAML::Node& node, const std::string& path, double min,
                      double max) const {
    const auto text = scalar(node, path);
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        fail(node, path, "\"" + text + "\" is not a number");
    }
    if (value < min || value > max) {
        std::ostringstream bounds;
        bounds << "must be between " << min << " and " << max;
        fail(node, path, bounds.str());
    }
    return value;
}

bool Reader::boolean(const YAML::Node& node, const std::string& path) const {
    const auto text = scalar(node, path);
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    fail(node, path, "\"" + text + "\" is not true or false");
}

std::string Reader::readable_file(const YAML::Node& node, const std::string& path) const {
    const auto file = scalar(node, path);
    if (file.empty()) return {};
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(node, path, "cannot read \"" + file + "\"");
    return file;
}

std::vector<std::string> Reader::cidrs(const YAML::Node& node, const std::string& path) const {
    if (!node.IsSequence()) fail(node, path, "must be a list of addresses or ranges");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i) {
        const auto item = path + "[" + std::to_string(i) + "]";
        const auto text = scalar(node[i], item);
        std::string error;
        if (!parse_cidr(text, error)) fail(node[i], item, error);
        out.push_back(text);
    }
    return out;
}

}  // namespace chgate::config
