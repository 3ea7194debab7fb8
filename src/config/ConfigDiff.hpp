#pragma once

#include <string>
#include <vector>

#include "config/Config.hpp"

namespace chgate::config {

/// Where two configurations differ, as dotted paths ("server.listen",
/// "batching.tables.events"), split by whether a reload applies them.
struct ConfigChanges {
    /// The keys marked live in ConfigSchema.cpp: batching.tables.{name},
    /// batching.defaults, batching.max_memory, log, auth, admin, metrics, server.tls
    std::vector<std::string> live;
    /// Everything else: these take effect at the next start.
    std::vector<std::string> restart;
};

ConfigChanges diff_configs(const Config& before, const Config& after);

/// What a configuration reload (SIGHUP, POST /admin/reload) did.
struct ReloadReport {
    bool ok = false;
    std::string error;                        ///< why the file was refused (nothing changed)
    std::vector<std::string> retuned;         ///< tables whose settings changed
    std::vector<std::string> retired;         ///< tables removed: new requests refused
    std::vector<std::string> restart_needed;  ///< changes that apply at the next start
    std::vector<std::string> warnings;        ///< as --check-config prints them
};

/// What a reload puts in force: `before`, with the parts a reload applies
/// taken from `after`.
Config apply_reloadable(const Config& before, const Config& after);

}  // namespace chgate::config
