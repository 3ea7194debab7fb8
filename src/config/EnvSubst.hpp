#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace chgate::config {

/// Looks a variable up; the default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

/// Expands ${VAR} and ${VAR:-default} in one scalar. "$$" stands for a literal "$".
/// On failure returns nullopt and sets `error` to a message naming the variable.
std::optional<std::string> substitute_env(std::string_view text, const EnvLookup& lookup,
                                          std::string& error);

}  // namespace chgate::config
