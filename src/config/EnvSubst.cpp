#include "config/EnvSubst.hpp"

#include <cstdlib>

namespace chgate::config {

EnvLookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

namespace {

bool valid_var_name(std::string_view name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!(alpha || (digit && i > 0))) return false;
    }
    return true;
}

}  // namespace

std::optional<std::string> substitute_env(std::string_view text, const EnvLookup& lookup,
                                          std::string& error) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '$' || i + 1 >= text.size()) {
            out.push_back(c);
            continue;
        }
        if (text[i + 1] == '$') {
            out.push_back('$');
            ++i;
            continue;
        }
        if (text[i + 1] != '{') {
            out.push_back(c);
            continue;
        }
        const auto close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            error = "unterminated ${ in \"" + std::string(text) + "\"";
            return std::nullopt;
        }
        std::string_view expr = text.substr(i + 2, close - i - 2);
        std::optional<std::string_view> fallback;
        if (const auto sep = expr.find(":-"); sep != std::string_view::npos) {
            fallback = expr.substr(sep + 2);
            expr = expr.substr(0, sep);
        }
        if (!valid_var_name(expr)) {
            error = "bad environment variable name \"" + std::string(expr) + "\" in ${...}";
            return std::nullopt;
        }
        auto value = lookup(std::string(expr));
        // ${VAR:-default} also applies when VAR is set but empty, as in the shell.
        if ((!value || value->empty()) && fallback) {
            out.append(*fallback);
        } else if (!value) {
            error = "environment variable " + std::string(expr) + " is not set (write ${" +
                    std::string(expr) + ":-default} to allow that)";
            return std::nullopt;
        } else {
            out.append(*value);
        }
        i = close;
    }
    return out;
}

}  // namespace chgate::config
