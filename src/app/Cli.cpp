#include "app/Cli.hpp"

namespace chgate::app {

std::string usage() {
    return R"(Usage: chgate --config FILE
       chgate --check-config FILE
       chgate --version | --help

chgate takes JSON events over HTTP, batches them per table, and sends each
batch to ClickHouse as one compressed INSERT.

Options:
  --config FILE        Run the gateway with the YAML configuration FILE.
  --check-config FILE  Validate FILE, print the effective configuration (every
                       default filled in, the password masked) and any
                       warnings, then exit: 0 if valid, 2 if not.
  --version            Print the version and exit.
  --help               Print this help and exit.

Endpoints:
  POST /v1/events/{table}   a JSON object, an array of objects, or NDJSON
  POST /?query=INSERT INTO t FORMAT JSONEachRow   ClickHouse-compatible
  GET  /metrics  /metrics/prometheus  /healthz  /readyz
  /admin/...                reload, flush, dead letters

With auth.tokens set, apps send Authorization: Bearer <token> (ClickHouse
clients: the token as their password, or X-ClickHouse-Key). Listening beyond
loopback with no tokens, chgate refuses to start unless auth.allow_anonymous.

Signals:
  SIGTERM, SIGINT  stop accepting, seal every buffer, finish the inserts, exit.
                   A second SIGINT (Ctrl-C) exits at once; more SIGTERMs do not.
  SIGHUP           read the config file again: the tables' settings,
                   batching.max_memory and log.level change at once, keeping
                   every buffered row; other changes wait for a restart (logged);
                   an invalid file changes nothing. Also POST /admin/reload.

Exit status: 0 after a clean stop; 1 if the gateway failed or had to abandon
rows at shutdown; 2 for a bad command line or configuration.
)";
}

CliOptions parse_cli(const std::vector<std::string>& args) {
    CliOptions out;
    auto fail = [&out](std::string message) {
        out.action = CliOptions::Action::error;
        out.error = std::move(message);
        return out;
    };
    if (args.empty()) return fail("no arguments; run with --config FILE (see --help)");
    bool have_action = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        CliOptions::Action action;
        bool takes_file = false;
        if (a == "--help" || a == "-h") {
            action = CliOptions::Action::help;
        } else if (a == "--version" || a == "-V") {
            action = CliOptions::Action::version;
        } else if (a == "--config" || a == "-c") {
            action = CliOptions::Action::run;
            takes_file = true;
        } else if (a == "--check-config") {
            action = CliOptions::Action::check_config;
            takes_file = true;
        } else if (a.starts_with("--config=")) {
            action = CliOptions::Action::run;
            out.config_path = a.substr(9);
        } else if (a.starts_with("--check-config=")) {
            action = CliOptions::Action::check_config;
            out.config_path = a.substr(15);
        } else {
            return fail("unknown argument \"" + a + "\" (see --help)");
        }
        if (have_action) return fail("give one of --config, --check-config, --version, --help");
        have_action = true;
        out.action = action;
        if (takes_file) {
            if (i + 1 >= args.size()) return fail(a + " needs a file name");
            out.config_path = args[++i];
        }
        if ((action == CliOptions::Action::run || action == CliOptions::Action::check_config) &&
            out.config_path.empty()) {
            return fail(a + " needs a file name");
        }
    }
    return out;
}

}  // namespace chgate::app
