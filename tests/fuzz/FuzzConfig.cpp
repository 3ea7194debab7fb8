// Config loading: any text is a configuration or a ConfigError, never a
// crash; a loaded one prints, and what it prints loads to the same.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "config/ConfigLoader.hpp"
#include "config/ConfigPrinter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    // ${VAR}s resolve to a fixed value: no environment, no files of the machine's.
    const chgate::config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "SET") return std::string("value");
        return std::nullopt;
    };
    try {
        const auto loaded = chgate::config::load_config_text(text, "fuzz.yaml", env);
        const auto printed = chgate::config::print_effective_config(*loaded.config);
        const auto again = chgate::config::load_config_text(printed, "printed.yaml", env);
        if (chgate::config::print_effective_config(*again.config) != printed) std::abort();
    } catch (const chgate::config::ConfigError&) {
    }
    return 0;
}
