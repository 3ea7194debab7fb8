#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/ConfigLoader.hpp"
#include "config/Units.hpp"
#include "core/EnumNames.hpp"

namespace chgate::config {

/// Walks the YAML tree for the loader. Every failure names the source, the
/// line and the dotted path of the key; warnings are kept for --check-config.
class Reader {
  public:
    Reader(std::string source, const EnvLookup& env) : source_(std::move(source)), env_(env) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& path,
                           const std::string& message) const;
    void warn(const YAML::Node& node, const std::string& path, const std::string& message);

    void expect_map(const YAML::Node& node, const std::string& path) const;
    /// A mapping's key as text: a list or mapping as a key (`? [a, b]: 1`) is an error.
    std::string key(const YAML::Node& node, const std::string& path) const;
    /// Rejects keys outside `allowed`, suggesting the nearest known key.
    void check_keys(const YAML::Node& node, const std::string& path,
                    const std::vector<std::string_view>& allowed) const;

    /// One value, with ${VAR} substituted.
    std::string scalar(const YAML::Node& node, const std::string& path) const;
    std::uint64_t size(const YAML::Node& node, const std::string& path) const;
    Duration duration(const YAML::Node& node, const std::string& path) const;
    std::int64_t integer(const YAML::Node& node, const std::string& path, std::int64_t min,
                         std::int64_t max) const;
    double number(const YAML::Node& node, const std::string& path, double min, double max) const;
    bool boolean(const YAML::Node& node, const std::string& path) const;
    /// The path of a file chgate can read now (checked, so that a reload with
    /// a wrong path changes nothing). Empty (or an unset ${VAR:-}) is no file.
    std::string readable_file(const YAML::Node& node, const std::string& path) const;
    /// A list of addresses or CIDR ranges.
    std::vector<std::string> cidrs(const YAML::Node& node, const std::string& path) const;

    template <typename E>
    E choice(const YAML::Node& node, const std::string& path,
             std::span<const core::EnumName<E>> names, std::string_view what = {}) const {
        const auto text = scalar(node, path);
        E value{};
        if (core::value_of(names, text, value)) return value;
        std::string list;
        for (const auto& n : names)
            list += (list.empty() ? "" : ", ") + std::string(n.name);
        if (what.empty()) fail(node, path, "\"" + text + "\" is not one of: " + list);
        fail(node, path, "\"" + text + "\" is not " + std::string(what) + "; use " + list);
    }

    template <typename E, std::size_t N>
    E choice(const YAML::Node& node, const std::string& path, const core::EnumName<E> (&names)[N],
             std::string_view what = {}) const {
        return choice(node, path, std::span<const core::EnumName<E>>(names), what);
    }

    const std::string& source() const { return source_; }
    std::vector<std::string> take_warnings() { return std::move(warnings_); }

  private:
    std::string source_;
    const EnvLookup& env_;
    std::vector<std::string> warnings_;
};

}  // namespace chgate::config
