#pragma once

#include <map>
#include <string>

namespace chgate::clickhouse {

/// What the probe learned about the server. Newer features are used only when
/// listed here; until a probe succeeds chgate assumes the oldest server it
/// supports (18.16): gzip bodies and no optional settings.
struct ServerInfo {
    std::string version;                      ///< "18.16.1"; empty until probed
    bool zstd_body = false;                   ///< Content-Encoding: zstd on requests
    bool wait_end_of_query = false;           ///< HTTP parameter, answers only at the end
    bool insert_deduplication_token = false;  ///< a setting in system.settings
    bool async_insert = false;                ///< a setting: chgate sends async_insert=0
    /// A setting (18.16 has it): an INSERT into a Distributed table ends once
    /// every shard has the rows, not once they are queued for the shards.
    bool insert_distributed_sync = true;
    /// clickhouse.settings that the server knows, with their values. Unknown
    /// ones would fail every INSERT with Code 115, so they are left out.
    std::map<std::string, std::string> settings;
};

}  // namespace chgate::clickhouse
