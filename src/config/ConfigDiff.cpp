#include "config/ConfigDiff.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "config/ConfigPrinter.hpp"

namespace chgate::config {

namespace {

bool reloadable(const std::string& path) {
    return path.starts_with("batching.tables.") || path == "batching.defaults" ||
           path == "batching.max_memory" || path == "log.level" || path == "log.rate_limit" ||
           path.starts_with("auth.") || path.starts_with("admin.") ||
           path.starts_with("metrics.") || path.starts_with("server.tls.");
}

std::set<std::string> keys(const YAML::Node& a, const YAML::Node& b) {
    std::set<std::string> out;
    for (const auto* n : {&a, &b}) {
        if (!n->IsMap()) continue;
        for (const auto& kv : *n)
            out.insert(kv.first.as<std::string>());
    }
    return out;
}

// Compares the maps `a` and `b` (found at `path`) key by key: a key's
// path is listed when its values differ, or for keys in `deeper`, the paths
// below it that differ.
void compare(const YAML::Node& a, const YAML::Node& b, const std::string& path,
             const std::set<std::string>& deeper, std::vector<std::string>& changed) {
    for (const auto& k : keys(a, b)) {
        const auto sub = path.empty() ? k : path + "." + k;
        const auto na = a.IsMap() ? a[k] : YAML::Node();
        const auto nb = b.IsMap() ? b[k] : YAML::Node();
        if (deeper.contains(sub)) {
            compare(na, nb, sub, deeper, changed);
        } else if (YAML::Dump(na) != YAML::Dump(nb)) {
            changed.push_back(sub);
        }
    }
}

}  // namespace

ConfigChanges diff_configs(const Config& before, const Config& after) {
    // The printer writes every field with its defaults filled in, so equal
    // text is equal settings, section by section.
    const auto a = YAML::Load(print_effective_config(before));
    const auto b = YAML::Load(print_effective_config(after));
    std::vector<std::string> changed;
    std::set<std::string> deeper;
    for (const auto& k : keys(a, b))
        deeper.insert(k);
    deeper.insert("batching.tables");
    compare(a, b, "", deeper, changed);
    // The printer masks the password and the tokens.
    if (before.clickhouse.password != after.clickhouse.password)
        changed.push_back("clickhouse.password");
    const auto has = [&](const char* path) {
        return std::find(changed.begin(), changed.end(), path) != changed.end();
    };
    if (before.auth.tokens != after.auth.tokens && !has("auth.tokens")) {
        changed.push_back("auth.tokens");
    }
    if (before.admin.token != after.admin.token && !has("admin.token")) {
        changed.push_back("admin.token");
    }
    if (before.metrics.token != after.metrics.token && !has("metrics.token")) {
        changed.push_back("metrics.token");
    }
    ConfigChanges out;
    for (auto& path : changed)
        (reloadable(path) ? out.live : out.restart).push_back(std::move(path));
    return out;
}

Config apply_reloadable(const Config& before, const Config& after) {
    Config c = before;
    c.batching.tables = after.batching.tables;
    c.batching.defaults = after.batching.defaults;
    c.batching.max_memory = after.batching.max_memory;
    c.log = after.log;
    c.auth = after.auth;
    c.admin = after.admin;
    c.metrics = after.metrics;
    return c;
}

}  // namespace chgate::config
