#include "app/Cli.hpp"

#include "config/Units.hpp"

namespace chgate::app {

std::string usage() {
    return R"(Usage: chgate --config FILE
       chgate --check-config FILE
       chgate drain --config FILE [--timeout 5m]
       chgate status [--url URL] [--json] [--interval 1s]
       chgate top [--url URL] [--interval 1s]
       chgate --version | --help

chgate takes JSON events over HTTP, batches them per table, and sends each
batch to ClickHouse as one compressed INSERT.

Options:
  --config FILE        Run the gateway with the YAML configuration FILE.
  --check-config FILE  Validate FILE, print the effective configuration (every
                       default filled in, the password masked) and any
                       warnings, then exit: 0 if valid, 2 if not.
  drain                Ask the chgate running with FILE to drain, and wait:
                       it takes no more events (503), sends everything it
                       holds (buffers, write-ahead logs, spool) to ClickHouse,
                       then exits 0. For scaling down and Kubernetes' preStop.
                       Sends POST /admin/drain to server.listen on loopback,
                       with $CHGATE_ADMIN_TOKEN as the admin token if set.
                       Exit status 0 once drained, 1 if not within --timeout
                       (default 5m; the instance keeps refusing events).
  status               Print what a running chgate is doing, once: readiness,
                       per table events/s, batches/s, rows buffered and
                       pending, the oldest event's age, holds, spool, dead
                       letters and quarantine; the ClickHouse servers and
                       shards. Reads GET /metrics and /readyz of --url
                       (default http://127.0.0.1:8080) twice, --interval
                       apart, for the rates; --json prints JSON for scripts.
                       $CHGATE_METRICS_TOKEN is sent as the metrics token.
                       Exit status 1 if chgate cannot be read.
  top                  The same, refreshed every --interval until Ctrl-C.
  --version            Print the version and exit.
  --help               Print this help and exit.

Endpoints:
  POST /v1/events/{table}   a JSON object, an array of objects, or NDJSON
  POST /?query=INSERT INTO t FORMAT JSONEachRow   ClickHouse-compatible
  GET  /metrics  /metrics/prometheus  /healthz  /readyz
  GET  /ui                  a status page for a browser
  /admin/...                reload, flush, drain, dead letters

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

namespace {

// chgate drain --config FILE [--timeout DURATION], in any order.
CliOptions parse_drain(const std::vector<std::string>& args) {
    CliOptions out;
    out.action = CliOptions::Action::drain;
    auto fail = [&out](std::string message) {
        out.action = CliOptions::Action::error;
        out.error = std::move(message);
        return out;
    };
    for (std::size_t i = 1; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a != "--config" && a != "-c" && a != "--timeout") {
            return fail("drain: unknown argument \"" + a + "\" (see --help)");
        }
        if (i + 1 >= args.size()) return fail("drain: " + a + " needs a value");
        const auto& value = args[++i];
        if (a == "--timeout") {
            const auto d = config::parse_duration(value);
            if (!d || *d <= config::Duration{0} || *d > std::chrono::hours(24)) {
                return fail("drain: --timeout must be a duration up to 24h (90s, 5m), not \"" +
                            value + "\"");
            }
            out.drain_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
        } else {
            out.config_path = value;
        }
    }
    if (out.config_path.empty()) return fail("drain needs --config FILE (the running chgate's)");
    return out;
}

// chgate status|top [--url URL] [--json] [--interval DURATION], in any order.
CliOptions parse_status(const std::vector<std::string>& args) {
    CliOptions out;
    const auto& name = args[0];
    out.action = name == "top" ? CliOptions::Action::top : CliOptions::Action::status;
    auto fail = [&out, &name](std::string message) {
        out.action = CliOptions::Action::error;
        out.error = name + ": " + std::move(message);
        return out;
    };
    for (std::size_t i = 1; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--json" && name == "status") {
            out.json = true;
            continue;
        }
        if (a != "--url" && a != "--interval") {
            return fail("unknown argument \"" + a + "\" (see --help)");
        }
        if (i + 1 >= args.size()) return fail(a + " needs a value");
        const auto& value = args[++i];
        if (a == "--interval") {
            const auto d = config::parse_duration(value);
            if (!d || *d < std::chrono::milliseconds(100) || *d > std::chrono::hours(1)) {
                return fail("--interval must be a duration from 100ms to 1h (1s, 5s), not \"" +
                            value + "\"");
            }
            out.interval = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
        } else {
            if (!value.starts_with("http://") && !value.starts_with("https://")) {
                return fail("--url must start with http:// or https://, not \"" + value + "\"");
            }
            out.url = value;
            while (out.url.ends_with('/'))
                out.url.pop_back();
        }
    }
    return out;
}

}  // namespace

CliOptions parse_cli(const std::vector<std::string>& args) {
    CliOptions out;
    auto fail = [&out](std::string message) {
        out.action = CliOptions::Action::error;
        out.error = std::move(message);
        return out;
    };
    if (args.empty()) return fail("no arguments; run with --config FILE (see --help)");
    if (args[0] == "drain") return parse_drain(args);
    if (args[0] == "status" || args[0] == "top") return parse_status(args);
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
