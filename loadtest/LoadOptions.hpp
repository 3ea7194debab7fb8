#pragma once

#include <string>
#include <vector>

namespace chgate::load {

struct LoadOptions {
    std::string host = "127.0.0.1";
    std::string port = "8080";
    std::string table = "events";
    std::string endpoint =
        "events";  ///< "events": /v1/events/{table}; "clickhouse": /?query=INSERT…
    int connections = 64;
    int threads = 1;
    int events_per_request = 1;
    double rate = 0;  ///< requests per second over all connections; 0 = as fast as possible
    double duration = 10;
    bool ndjson = false;
    bool json = false;  ///< print one JSON object instead of text
    // --verify
    bool verify = false;
    std::string clickhouse_url = "http://127.0.0.1:8123";
    std::string database = "default";
    double verify_timeout = 60;
};

/// Parses the command line; on error or --help returns false with the text to print.
bool parse_options(const std::vector<std::string>& args, LoadOptions& out, std::string& message);

}  // namespace chgate::load
