#include <cstdlib>
#include <iostream>

#include "app/App.hpp"
#include "app/Cli.hpp"
#include "app/Drain.hpp"
#include "app/Status.hpp"
#include "config/ConfigLoader.hpp"
#include "config/ConfigPrinter.hpp"
#include "util/Version.hpp"

int main(int argc, char** argv) {
    using chgate::app::CliOptions;
    const auto options = chgate::app::parse_cli(std::vector<std::string>(argv + 1, argv + argc));
    switch (options.action) {
        case CliOptions::Action::help:
            std::cout << chgate::app::usage();
            return 0;
        case CliOptions::Action::version:
            std::cout << "chgate " << chgate::kVersion << "\n";
            return 0;
        case CliOptions::Action::error:
            std::cerr << "chgate: " << options.error << "\n";
            return 2;
        case CliOptions::Action::status:
        case CliOptions::Action::top: {
            chgate::app::StatusOptions status;
            status.url = options.url;
            status.interval = options.interval;
            status.json = options.json;
            status.once = options.action == CliOptions::Action::status;
            if (const char* token = std::getenv("CHGATE_METRICS_TOKEN")) status.token = token;
            return chgate::app::run_status(status, std::cout, std::cerr);
        }
        case CliOptions::Action::check_config:
        case CliOptions::Action::drain:
        case CliOptions::Action::run:
            break;
    }
    chgate::config::LoadedConfig loaded;
    try {
        loaded = chgate::config::load_config_file(options.config_path);
    } catch (const chgate::config::ConfigError& e) {
        std::cerr << "chgate: invalid configuration: " << e.what() << "\n";
        return 2;
    }
    if (options.action == CliOptions::Action::drain) {
        const char* token = std::getenv("CHGATE_ADMIN_TOKEN");
        return chgate::app::run_drain(*loaded.config, options.drain_timeout,
                                      token != nullptr ? token : "", std::cout, std::cerr);
    }
    if (options.action == CliOptions::Action::check_config) {
        std::cout << chgate::config::print_effective_config(*loaded.config);
        for (const auto& w : loaded.warnings)
            std::cerr << "warning: " << w << "\n";
        std::cerr << options.config_path << ": OK\n";
        return 0;
    }
    // Before any thread exists, so that every thread inherits the mask.
    chgate::app::App::block_signals();
    try {
        chgate::app::App app(std::move(loaded), options.config_path);
        return app.run();
    } catch (const std::exception& e) {
        std::cerr << "chgate: " << e.what() << "\n";
        return 1;
    }
}
